-- Headers of the merchant's own that every request to the endpoint carries (a gateway's key, say):
-- a JSON object of names and values, kept encrypted as its secrets are; NULL when it has none.
ALTER TABLE endpoints ADD COLUMN headers TEXT;
