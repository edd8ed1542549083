-- Attempts are read by notification, in number order, and never by id alone. The table was kept by
-- row id, with one index for its ids and one for (notification, number): three structures written
-- for every attempt, each rewriting its last page at every commit. The table is now kept in the order
-- it is read, by (notification, number, id), without a row id: one structure instead of three. An
-- attempt is small (its response excerpt aside), as such a table wants its rows.
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
  SELECT notification_id, number, id, trigger, started_at, duration_ms, status_code, succeeded, error, response_excerpt FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_rebuilt RENAME TO attempts;
CREATE INDEX attempts_started ON attempts(started_at);
