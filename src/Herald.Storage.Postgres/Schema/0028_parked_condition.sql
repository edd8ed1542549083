-- The parked index's condition says "pending" as a range of one value. The look-ups of parked
-- work (an endpoint enabled again) say it so too, and the due index's condition
-- (status = 'pending') cannot be proved from it: the planner can no longer read the due index's
-- parked part, every disabled endpoint's backlog, in place of this index. The index is made again
-- over the whole table (about a second a million notifications, writes to notifications waiting).
DROP INDEX notifications_parked;
CREATE INDEX notifications_parked ON notifications(endpoint_id)
  WHERE status >= 'pending' AND status <= 'pending' AND next_attempt_at IS NULL;
