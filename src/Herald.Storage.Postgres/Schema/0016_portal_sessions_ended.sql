-- Portal sessions ended by signing out, by the hash of their id: a copy of the session's cookie
-- taken before is refused from then on. A session lasts at most a day from its sign-in, so a row
-- older than that is of no further use and is removed at a later sign-out.
CREATE TABLE portal_sessions_ended (
  session_hash  TEXT PRIMARY KEY,
  ended_at      BIGINT NOT NULL
);
CREATE INDEX portal_sessions_ended_at ON portal_sessions_ended(ended_at);
