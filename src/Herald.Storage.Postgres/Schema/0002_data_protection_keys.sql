-- The Data Protection key ring that encrypts endpoint secrets, shared by every node.
CREATE TABLE data_protection_keys (
  id    BIGSERIAL PRIMARY KEY,
  name  TEXT NOT NULL,
  xml   TEXT NOT NULL
);
