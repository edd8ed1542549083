-- Entity ids are not time-ordered: an index keyed by them takes every recorded change's entry
-- somewhere in the middle. Notifications are now found by entity through their event (events keep
-- the one index by entity), and the ordered-delivery check likewise; notifications are indexed by
-- event instead, whose ids are time-ordered. The events' uniqueness on (entity, version) goes too:
-- the entity row's version check, in the same transaction, already makes each version once.
DROP INDEX IF EXISTS notifications_pending_entity;
DROP INDEX IF EXISTS notifications_merchant_entity;
CREATE INDEX notifications_event ON notifications(event_id);
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_entity_kind_entity_id_version_key;
