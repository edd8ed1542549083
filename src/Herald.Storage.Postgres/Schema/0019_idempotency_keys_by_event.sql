-- Retention deletes the idempotency keys that name the events it purges: found by their event.
CREATE INDEX idempotency_keys_event ON idempotency_keys(event_id);
