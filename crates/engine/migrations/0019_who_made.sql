-- Who made each profile and gold image, as `user@host` (artifacts and jobs have it since 0018).
-- Rows from before this migration have none (shown as not recorded).
ALTER TABLE profiles ADD COLUMN created_by TEXT;
ALTER TABLE gold_images ADD COLUMN created_by TEXT;
