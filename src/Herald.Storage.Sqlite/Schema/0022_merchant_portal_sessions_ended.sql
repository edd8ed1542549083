-- When the operator last ended every portal session of the merchant: a session signed in then or
-- before is refused, whether a key or a link signed it in. Null while that was never asked.
ALTER TABLE merchants ADD COLUMN portal_sessions_ended_at INTEGER;
