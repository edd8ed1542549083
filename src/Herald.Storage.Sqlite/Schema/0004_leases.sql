-- A claim marks its lease in a column of its own instead of moving next_attempt_at: taking work
-- then leaves the due index alone, and next_attempt_at keeps saying when the notification fell due.
-- Rows leased before this change carry their lease in next_attempt_at and come due when it ends.
ALTER TABLE notifications ADD COLUMN leased_until INTEGER;
