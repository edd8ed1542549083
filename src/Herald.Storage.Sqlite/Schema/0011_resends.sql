-- Resends asked for and not yet made, so that a restart or a node's loss does not drop them. A
-- request is one notification, or an ordered endpoint's recover run (its ids in order, separated
-- by spaces, `done` of them handled). A node owns what it holds until
-- `owned_until`, renewed while it runs; a node that stops hands its requests back, and a lost
-- node's fall due when its ownership runs out. Claims take the oldest first.
CREATE TABLE resends (
  id                TEXT PRIMARY KEY,
  merchant_id       TEXT NOT NULL,
  notification_ids  TEXT NOT NULL,
  stop_at_failure   BIGINT NOT NULL,
  done              BIGINT NOT NULL,
  created_at        BIGINT NOT NULL,
  owner             TEXT,
  owned_until       BIGINT NOT NULL
);
CREATE INDEX resends_oldest ON resends(created_at, id);
CREATE INDEX resends_owner ON resends(owner);
CREATE INDEX resends_merchant ON resends(merchant_id);
