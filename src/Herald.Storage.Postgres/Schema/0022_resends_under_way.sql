-- Whether the attempt of the notification a kept resend has got to (notification_ids past done)
-- is under way: a recover asked meanwhile sends it again should that attempt fail.
ALTER TABLE resends ADD COLUMN under_way BIGINT NOT NULL DEFAULT 0;
