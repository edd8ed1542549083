-- Attempts are read by notification and never by id alone, yet every attempt took an entry in
-- three indexes: by id (the primary key), by (notification, number) and by start time. The
-- primary key is now (notification, number, id), which serves the reads by notification, and the
-- index that did so is dropped: two index entries an attempt instead of three.
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts ADD PRIMARY KEY (notification_id, number, id);
DROP INDEX attempts_notification;
