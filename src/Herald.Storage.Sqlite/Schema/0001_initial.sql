-- Herald's first schema. Times are unix milliseconds (UTC); documents and payloads are JSON text.

CREATE TABLE merchants (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL REFERENCES merchants(id),
  key_hash     TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER
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
  timeout_seconds  INTEGER NOT NULL,
  ordered          INTEGER NOT NULL DEFAULT 0,
  enabled          INTEGER NOT NULL DEFAULT 1,
  source           TEXT NOT NULL,
  preference_id    TEXT,
  disabled_reason  TEXT,
  disabled_at      INTEGER,
  deleted_at       INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX endpoints_merchant ON endpoints(merchant_id, format);

CREATE TABLE endpoint_secrets (
  endpoint_id  TEXT NOT NULL REFERENCES endpoints(id),
  secret       TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER
);
CREATE INDEX endpoint_secrets_endpoint ON endpoint_secrets(endpoint_id);

CREATE TABLE checkout_preferences (
  id           TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL REFERENCES merchants(id),
  document     TEXT NOT NULL,
  endpoint_id  TEXT REFERENCES endpoints(id),
  created_at   INTEGER NOT NULL
);
CREATE INDEX checkout_preferences_merchant ON checkout_preferences(merchant_id);

CREATE TABLE entities (
  kind           TEXT NOT NULL,
  id             TEXT NOT NULL,
  merchant_id    TEXT NOT NULL REFERENCES merchants(id),
  state          TEXT NOT NULL,
  version        INTEGER NOT NULL,
  preference_id  TEXT,
  document       TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
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
  version      INTEGER NOT NULL,
  occurred_at  INTEGER NOT NULL,
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
  attempt_count    INTEGER NOT NULL DEFAULT 0,
  failures         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,
  lease_token      TEXT,
  last_attempt_at  INTEGER,
  last_status_code INTEGER,
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  succeeded_at     INTEGER
);
-- Claims walk this index from the front: only pending rows are in it, ordered by when they are due.
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_merchant ON notifications(merchant_id, id);
CREATE INDEX notifications_merchant_entity ON notifications(merchant_id, entity_id);
CREATE INDEX notifications_endpoint ON notifications(endpoint_id, status);

CREATE TABLE attempts (
  id                TEXT PRIMARY KEY,
  notification_id   TEXT NOT NULL REFERENCES notifications(id),
  number            INTEGER NOT NULL,
  trigger           TEXT NOT NULL,
  started_at        INTEGER NOT NULL,
  duration_ms       INTEGER NOT NULL,
  status_code       INTEGER,
  succeeded         INTEGER NOT NULL,
  error             TEXT,
  response_excerpt  TEXT
);
CREATE INDEX attempts_notification ON attempts(notification_id, number);

CREATE TABLE idempotency_keys (
  merchant_id   TEXT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  event_id      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, key)
);
