-- 0012_decined renamed a declined transaction's state, and its document where the entity's row
-- keeps one. A row whose document is its latest event's snapshot keeps no text of its own (it is
-- read from that snapshot, which 0012 leaves as it was sent): such a transaction still read
-- "status":"DECLINED". Its document is now written out in the row, renamed; the snapshot stays.
UPDATE entities
SET document = replace(
  (SELECT ev.snapshot FROM events ev WHERE ev.entity_seq = entities.seq AND ev.version = entities.version),
  '"status":"DECLINED"', '"status":"DECINED"')
WHERE kind = 'transaction' AND state = 'DECINED' AND document = ''
  AND EXISTS (SELECT 1 FROM events ev WHERE ev.entity_seq = entities.seq AND ev.version = entities.version
              AND ev.snapshot LIKE '%"status":"DECLINED"%');
