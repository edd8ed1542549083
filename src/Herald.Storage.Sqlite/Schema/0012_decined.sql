-- Seed 003 spells a declined transaction's state DECINED, and a receiver written against it
-- matches that spelling: Herald now names the state as the seed does (DECLINED, the name it used
-- before, is still taken on input). What was recorded under the earlier name is renamed, so that
-- the entity, a listing or an endpoint's filter speaks of it as new changes do. What was sent is
-- kept as it was sent: events' snapshots and notifications' payloads are not rewritten, so a
-- resend of an earlier notification carries the body its receiver saw then.
UPDATE entities SET state = 'DECINED', document = replace(document, '"status":"DECLINED"', '"status":"DECINED"')
WHERE kind = 'transaction' AND state = 'DECLINED';
UPDATE events SET type = 'TRANSACTION.DECINED', to_state = 'DECINED'
WHERE type = 'TRANSACTION.DECLINED';
UPDATE notifications SET event_type = 'TRANSACTION.DECINED'
WHERE event_type = 'TRANSACTION.DECLINED';
UPDATE endpoints SET event_types = replace(event_types, '"TRANSACTION.DECLINED"', '"TRANSACTION.DECINED"')
WHERE event_types LIKE '%"TRANSACTION.DECLINED"%';
