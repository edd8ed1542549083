-- A claim marks its lease in a column of its own instead of moving next_attempt_at: no indexed
-- column changes, so PostgreSQL can update the row in place (a HOT update, no new index entries)
-- when its page has room, which a fill factor of 70 leaves on new pages. next_attempt_at keeps
-- saying when the notification fell due. Rows leased before this change carry their lease in
-- next_attempt_at and come due when it ends.
ALTER TABLE notifications ADD COLUMN leased_until BIGINT;
ALTER TABLE notifications SET (fillfactor = 70);
