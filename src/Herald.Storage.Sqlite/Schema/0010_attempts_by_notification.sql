-- Attempts are read by notification and never by id alone. The table was kept by row id, with one
-- index for its ids and one for (notification, number): three of the four structures written for
-- every attempt (the index by start time the fourth), each rewriting its last page at every commit.
-- The table is now kept by (notification, number, id), without a row id: two structures in all. An
-- attempt is small, as such a table wants its rows; one with a long response excerpt keeps most of
-- it on an overflow page, as the row-id table did for excerpts near a page's size.
CREATE TABLE attempts_rebuilt (
  notification_id   TEXT NOT NULL REFERENCES notifications(id),
  number            INTEGER NOT NULL,
  id                TEXT NOT NULL,
  trigger           TEXT NOT NULL,
  started_at        INTEGER NOT NULL,
  duration_ms       INTEGER NOT NULL,
  status_code       INTEGER,
  succeeded         INTEGER NOT NULL,
  error             TEXT,
  response_excerpt  TEXT,
  PRIMARY KEY (notification_id, number, id)
) WITHOUT ROWID;
INSERT INTO attempts_rebuilt (notification_id, number, id, trigger, started_at, duration_ms, status_code, succeeded, error, response_excerpt)
  SELECT notification_id, number, id, trigger, started_at, duration_ms, status_code, succeeded, error, response_excerpt FROM attempts
  ORDER BY notification_id, number, id;
DROP TABLE attempts;
ALTER TABLE attempts_rebuilt RENAME TO attempts;
CREATE INDEX attempts_started ON attempts(started_at);
