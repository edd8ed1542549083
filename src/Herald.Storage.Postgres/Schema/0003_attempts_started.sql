-- Delivery statistics read the attempts of a time window.
CREATE INDEX attempts_started ON attempts(started_at);
