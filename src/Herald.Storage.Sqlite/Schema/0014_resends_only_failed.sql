-- A recover's resends leave unsent what has succeeded by its turn (a scheduled retry, or another
-- recover, got there first); a resend asked for one notification is sent whatever its status.
ALTER TABLE resends ADD COLUMN only_failed INTEGER NOT NULL DEFAULT 0;
