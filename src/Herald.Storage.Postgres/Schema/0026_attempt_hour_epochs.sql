-- Moved on for a merchant by its erasure, and by each purge of its notifications, in the
-- transaction that deletes their attempts: a stats read takes it before it counts an hour's
-- attempts, outside any write, and keeps the hour's figures only if it has not moved since, so it
-- never keeps figures of attempts deleted meanwhile. No row reads as 0.
CREATE TABLE attempt_hour_epochs (
  merchant_id  TEXT PRIMARY KEY,
  epoch        BIGINT NOT NULL
);
