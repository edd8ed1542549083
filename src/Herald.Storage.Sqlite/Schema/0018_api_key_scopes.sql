-- What a key may do: 'full' (everything a merchant may) or 'read' (GET and HEAD only: a receiver
-- fetching thin events' orders, a dashboard). Keys made before are full, as they were.
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
