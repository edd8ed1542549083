-- Herald's first schema on PostgreSQL, column for column the SQLite one. Times are unix milliseconds (UTC);
-- documents and payloads are text, so that a payload is sent byte for byte as it was rendered.

CREATE TABLE merchants (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL REFERENCES merchants(id),
  key_hash     TEXT NOT NULL UNIQUE,
  created_at   BIGINT NOT NULL,
  revoked_at   BIGINT
);
CREATE INDEX api_keys_merchant ON api_keys(merchant_id);

CREATE TABLE endpoints (
  id               TEXT PRIMARY KEY,
  merchant_id      TEXT NOT NULL REFERENCES merchants(id),
  url              TEXT NOT NULL,
  description      TEXT,
  format           TEXT NOT NULL,
  event_types      TEXT,
  success_rule     TEXT NOT NULL,
  retry_policy     TEXT NOT NULL,
  timeout_seconds  BIGINT NOT NULL,
  ordered          BOOLEAN NOT NULL DEFAULT FALSE,
  enabled          BOOLEAN NOT NULL DEFAULT TRUE,
  source           TEXT NOT NULL,
  preference_id    TEXT,
  disabled_reason  TEXT,
  disabled_at      BIGINT,
  deleted_at       BIGINT,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL
);
CREATE INDEX endpoints_merchant ON endpoints(merchant_id, format);

CREATE TABLE endpoint_secrets (
  endpoint_id  TEXT NOT NULL REFERENCES endpoints(id),
  secret       TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets(endpoint_id);

CREATE TABLE checkout_preferences (
  id           TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL REFERENCES merchants(id),
  document     TEXT NOT NULL,
  endpoint_id  TEXT REFERENCES endpoints(id),
  created_at   BIGINT NOT NULL
);
CREATE INDEX checkout_preferences_merchant ON checkout_preferences(merchant_id);

CREATE TABLE entities (
  kind           TEXT NOT NULL,
  id             TEXT NOT NULL,
  merchant_id    TEXT NOT NULL REFERENCES merchants(id),
  state          TEXT NOT NULL,
  version        BIGINT NOT NULL,
  preference_id  TEXT,
  document       TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  PRIMARY KEY (kind, id)
);

CREATE TABLE events (
  id           TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL,
  entity_kind  TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  type         TEXT NOT NULL,
  from_state   TEXT,
  to_state     TEXT NOT NULL,
  version      BIGINT NOT NULL,
  occurred_at  BIGINT NOT NULL,
  snapshot     TEXT NOT NULL,
  UNIQUE (entity_kind, entity_id, version)
);
CREATE INDEX events_merchant_entity ON events(merchant_id, entity_id);

CREATE TABLE notifications (
  id               TEXT PRIMARY KEY,
  merchant_id      TEXT NOT NULL,
  event_id         TEXT NOT NULL REFERENCES events(id),
  endpoint_id      TEXT NOT NULL REFERENCES endpoints(id),
  entity_kind      TEXT NOT NULL,
  entity_id        TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  status           TEXT NOT NULL,
  payload          TEXT NOT NULL,
  attempt_count    INT NOT NULL DEFAULT 0,
  failures         INT NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT,
  lease_token      TEXT,
  last_attempt_at  BIGINT,
  last_status_code BIGINT,
  last_error       TEXT,
  created_at       BIGINT NOT NULL,
  succeeded_at     BIGINT
);
-- Claims walk this index from the front: only pending rows are in it, ordered by when they are due.
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_merchant ON notifications(merchant_id, id);
CREATE INDEX notifications_merchant_entity ON notifications(merchant_id, entity_id);
CREATE INDEX notifications_endpoint ON notifications(endpoint_id, status);

CREATE TABLE attempts (
  id                TEXT PRIMARY KEY,
  notification_id   TEXT NOT NULL REFERENCES notifications(id),
  number            BIGINT NOT NULL,
  trigger           TEXT NOT NULL,
  started_at        BIGINT NOT NULL,
  duration_ms       BIGINT NOT NULL,
  status_code       BIGINT,
  succeeded         BOOLEAN NOT NULL,
  error             TEXT,
  response_excerpt  TEXT
);
CREATE INDEX attempts_notification ON attempts(notification_id, number);

CREATE TABLE idempotency_keys (
  merchant_id   TEXT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  event_id      TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (merchant_id, key)
);
