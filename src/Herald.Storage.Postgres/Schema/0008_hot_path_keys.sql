-- The foreign keys that every recorded change and every attempt checked: each check locked the
-- parent row (FOR KEY SHARE), and the parents are few and hot (a merchant, its endpoints), so
-- concurrent writers queued on them and PostgreSQL minted a multixact per lock. Herald writes
-- those rows only in the transactions that make their parents (or after them), and deletes
-- children before parents, so the keys held nothing the code does not.
ALTER TABLE entities DROP CONSTRAINT IF EXISTS entities_merchant_id_fkey;
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_event_id_fkey;
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_endpoint_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_notification_id_fkey;
