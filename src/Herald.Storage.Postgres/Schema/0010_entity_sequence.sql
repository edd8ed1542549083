-- Events were found by entity through an index keyed by the entity's id. Entity ids come from the
-- payment platform and are not time-ordered, so every recorded change wrote a page somewhere in
-- the middle of that index. Each entity now has a sequence number, given in the order entities are
-- made, and events are found by it: a new entity's events go at the index's end, and the changes of
-- recent entities land on the same few pages. The merchant's events are listed, and erased,
-- through an index of their own, in the order of their ids.
ALTER TABLE entities ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE events ADD COLUMN entity_seq BIGINT;
UPDATE events SET entity_seq = entities.seq FROM entities WHERE entities.kind = events.entity_kind AND entities.id = events.entity_id;
DROP INDEX IF EXISTS events_merchant_entity;
CREATE INDEX events_entity ON events(entity_seq);
CREATE INDEX events_merchant ON events(merchant_id, id);
