-- The admin key's hash, kept where every node sharing the database reads it: a node started
-- without HERALD_ADMIN_KEY and without an admin.key in its data folder accepts the key the node
-- that first used the database made (and printed); a node with either keeps its own here.
CREATE TABLE admin_key (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  key_hash    TEXT NOT NULL,
  updated_at  BIGINT NOT NULL
);
