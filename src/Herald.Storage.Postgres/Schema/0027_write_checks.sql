-- One row, written by a readiness check while a write has lately met a trouble (a full disk, a
-- read-only server): whether a write commits now, where a read would answer all the same.
CREATE TABLE write_checks (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  checks  BIGINT NOT NULL
);
