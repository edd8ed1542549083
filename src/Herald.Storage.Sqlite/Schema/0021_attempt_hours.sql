-- The stats of each settled hour of a merchant's attempts (one that no attempt can still be
-- recorded in), kept the first time a stats read covers it, so that later reads take these rows
-- instead of the hour's attempts: the hour's attempts and successes, and each endpoint's attempts
-- and successes by duration, whose counts give the window's percentiles. Gone with the merchant's
-- erasure, and with the retention once attempts of the hour may have been purged.
CREATE TABLE attempt_hours (
  merchant_id  TEXT NOT NULL,
  hour         BIGINT NOT NULL,
  total        INTEGER NOT NULL,
  succeeded    INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, hour)
) WITHOUT ROWID;
CREATE INDEX attempt_hours_hour ON attempt_hours(hour);
CREATE TABLE attempt_hour_durations (
  merchant_id  TEXT NOT NULL,
  hour         BIGINT NOT NULL,
  endpoint_id  TEXT NOT NULL,
  duration_ms  INTEGER NOT NULL,
  total        INTEGER NOT NULL,
  succeeded    INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, hour, endpoint_id, duration_ms)
) WITHOUT ROWID;
CREATE INDEX attempt_hour_durations_hour ON attempt_hour_durations(hour);
