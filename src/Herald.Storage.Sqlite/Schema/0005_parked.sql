-- A disabled endpoint's pending notifications are parked: no time to be tried (next_attempt_at
-- NULL), so the claims, which walk the due index from its front, never step over them however long
-- the backlog grows. When the endpoint is enabled again the workers make them due, finding them
-- through this index.
UPDATE notifications SET next_attempt_at = NULL
WHERE status = 'pending' AND endpoint_id IN (SELECT id FROM endpoints WHERE enabled = 0);
CREATE INDEX notifications_parked ON notifications(endpoint_id) WHERE status = 'pending' AND next_attempt_at IS NULL;
