-- Events were found by entity through an index keyed by the entity's id. Entity ids come from the
-- payment platform and are not time-ordered, so every recorded change wrote a page somewhere in
-- the middle of that index. Each entity now has a sequence number, given in the order entities are
-- made, and events are found by it: a new entity's events go at the index's end, and the changes of
-- recent entities land on the same few pages. The number is the table's row id, declared so that
-- it stays the same for the life of the row (SQLite may renumber an undeclared one). The merchant's
-- events are listed, and erased, through an index of their own, in the order of their ids.
CREATE TABLE entities_rebuilt (
  seq            INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL,
  id             TEXT NOT NULL,
  merchant_id    TEXT NOT NULL REFERENCES merchants(id),
  state          TEXT NOT NULL,
  version        INTEGER NOT NULL,
  preference_id  TEXT,
  document       TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (kind, id)
);
INSERT INTO entities_rebuilt (seq, kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at)
  SELECT rowid, kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at FROM entities ORDER BY rowid;
DROP TABLE entities;
ALTER TABLE entities_rebuilt RENAME TO entities;

ALTER TABLE events ADD COLUMN entity_seq INTEGER;
UPDATE events SET entity_seq = (SELECT seq FROM entities WHERE entities.kind = events.entity_kind AND entities.id = events.entity_id);
DROP INDEX events_merchant_entity;
CREATE INDEX events_entity ON events(entity_seq);
CREATE INDEX events_merchant ON events(merchant_id, id);
