-- Entity ids are not time-ordered: an index keyed by them takes every recorded change's entry
-- somewhere in the middle, and each commit wrote a page of each such index for every change.
-- Notifications are now found by entity through their event (events keep the one index by
-- entity), and the ordered-delivery check likewise; notifications are indexed by event instead,
-- whose ids are time-ordered, so new entries go at the end.
DROP INDEX notifications_pending_entity;
DROP INDEX notifications_merchant_entity;
CREATE INDEX notifications_event ON notifications(event_id);
