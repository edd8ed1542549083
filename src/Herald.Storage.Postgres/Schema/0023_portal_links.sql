-- One-time portal sign-in links the operator makes for a merchant, by the hash of their token (the
-- token itself is never kept). A link signs in once (used_at set), until expires_at. Links expired
-- a day or more are removed when another is made.
CREATE TABLE portal_links (
  token_hash    TEXT PRIMARY KEY,
  merchant_id   TEXT NOT NULL REFERENCES merchants(id),
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL,
  used_at       BIGINT
);
CREATE INDEX portal_links_expires_at ON portal_links(expires_at);
