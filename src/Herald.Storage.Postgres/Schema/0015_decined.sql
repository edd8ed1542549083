-- Seed 003 spells a declined transaction's state DECINED, and a receiver written against it
-- matches that spelling: Herald now names the state as the seed does (DECLINED, the name it used
-- before, is still taken on input). What was recorded under the earlier name is renamed, so that
-- a resend, a listing or an endpoint's filter speaks of it as new changes do.
UPDATE entities SET state = 'DECINED', document = replace(document, '"status":"DECLINED"', '"status":"DECINED"')
WHERE kind = 'transaction' AND state = 'DECLINED';
UPDATE events SET type = 'TRANSACTION.DECINED', to_state = 'DECINED', snapshot = replace(snapshot, '"status":"DECLINED"', '"status":"DECINED"')
WHERE type = 'TRANSACTION.DECLINED';
UPDATE notifications SET event_type = 'TRANSACTION.DECINED', payload = replace(payload, '"status":"DECLINED"', '"status":"DECINED"')
WHERE event_type = 'TRANSACTION.DECLINED';
UPDATE endpoints SET event_types = replace(event_types, '"TRANSACTION.DECLINED"', '"TRANSACTION.DECINED"')
WHERE event_types LIKE '%"TRANSACTION.DECLINED"%';
