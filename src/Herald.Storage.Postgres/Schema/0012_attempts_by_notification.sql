-- Attempts are read by notification and never by id alone, yet every attempt took an entry in
-- three indexes: by id (the primary key), by (notification, number) and by start time. The
-- primary key is now (notification, number, id), which serves the reads by notification, and the
-- index that did so is dropped: two index entries an attempt instead of three. Building the new
-- key holds the attempts table exclusively until this script commits (outcomes wait meanwhile):
-- on a large database, run `herald migrate` before starting the new release's nodes.
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts ADD PRIMARY KEY (notification_id, number, id);
DROP INDEX IF EXISTS attempts_notification;
