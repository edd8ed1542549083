-- 0015_decined renamed a declined transaction's state, and its document where the entity's row
-- keeps one. A row whose document is its latest event's snapshot keeps no text of its own (it is
-- read from that snapshot, which 0015 leaves as it was sent): such a transaction still read
-- "status":"DECLINED". Its document is now written out in the row, renamed; the snapshot stays.
UPDATE entities en
SET document = replace(ev.snapshot, '"status":"DECLINED"', '"status":"DECINED"')
FROM events ev
WHERE en.kind = 'transaction' AND en.state = 'DECINED' AND en.document = ''
  AND ev.merchant_id = en.merchant_id AND ev.entity_kind = en.kind AND ev.entity_id = en.id AND ev.version = en.version
  AND ev.snapshot LIKE '%"status":"DECLINED"%';
