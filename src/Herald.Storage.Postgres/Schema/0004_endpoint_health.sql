-- Endpoint health and ordering: per-endpoint limits, when an endpoint began failing without a
-- success since, each notification's entity version (ordered endpoints), and the operator.

ALTER TABLE endpoints ADD COLUMN max_concurrency INTEGER;
ALTER TABLE endpoints ADD COLUMN rate_limit INTEGER;
ALTER TABLE endpoints ADD COLUMN failing_since BIGINT;

ALTER TABLE notifications ADD COLUMN entity_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN trace_parent TEXT;
UPDATE notifications SET entity_version = (SELECT version FROM events WHERE events.id = notifications.event_id);
-- An ordered endpoint's claim looks for an earlier pending notification of the same entity.
CREATE INDEX notifications_pending_entity ON notifications(endpoint_id, entity_id, entity_version) WHERE status = 'pending';

-- The operator's own events (endpoint.disabled, endpoint.recovered, notification.dead) are
-- delivered like any merchant's, to endpoints owned by this reserved merchant.
INSERT INTO merchants (id, name, created_at) VALUES ('mer_operator', 'Operator', 0);
