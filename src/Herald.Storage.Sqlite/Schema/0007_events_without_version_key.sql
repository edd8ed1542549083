-- The events' uniqueness on (entity, version) goes, as it went on PostgreSQL: the entity row's
-- version check, in the same transaction, already makes each version once. Its index was keyed by
-- entity ids, which are not time-ordered, so every recorded change wrote a page somewhere in its
-- middle. SQLite drops a table constraint only by rebuilding the table (its rows copied once, here).
CREATE TABLE events_rebuilt (
  id           TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL,
  entity_kind  TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  type         TEXT NOT NULL,
  from_state   TEXT,
  to_state     TEXT NOT NULL,
  version      INTEGER NOT NULL,
  occurred_at  INTEGER NOT NULL,
  snapshot     TEXT NOT NULL
);
INSERT INTO events_rebuilt (id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot)
  SELECT id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot FROM events;
DROP TABLE events;
ALTER TABLE events_rebuilt RENAME TO events;
CREATE INDEX events_merchant_entity ON events(merchant_id, entity_id);
