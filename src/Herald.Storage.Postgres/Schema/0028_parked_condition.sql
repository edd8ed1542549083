-- The parked index's condition says "pending" as a range of one value. The look-ups of parked
-- work (an endpoint enabled again) say it so too, and the due index's condition
-- (status = 'pending') cannot be proved from it: the planner can no longer read the due index's
-- parked part, every disabled endpoint's backlog, in place of this index.
-- How often each endpoint has each status, which the planner otherwise takes for independent: a
-- list of an endpoint's notifications of a status it has none of (dead, for one that never
-- failed) walked the merchant's whole log in search of them, 5.4 s at 1.5 million notifications,
-- rather than looking in the endpoint's index (0.24 ms). Counted from a sample, now and at each
-- analysis of the table after, for up to 1,000 endpoint-and-status pairs (the default keeps 100).
-- The new index is made beside the old one (over the whole table, about a second a million
-- notifications: writes to notifications wait, reads go on), the old one dropped last, so that
-- reads wait only for that moment.
CREATE STATISTICS notifications_endpoint_status (mcv) ON endpoint_id, status FROM notifications;
ALTER STATISTICS notifications_endpoint_status SET STATISTICS 1000;
CREATE INDEX notifications_parked_range ON notifications(endpoint_id)
  WHERE status >= 'pending' AND status <= 'pending' AND next_attempt_at IS NULL;
ANALYZE notifications;
DROP INDEX notifications_parked;
ALTER INDEX notifications_parked_range RENAME TO notifications_parked;
