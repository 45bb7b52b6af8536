-- The twin of local migration 0019: who made each profile and gold image, as `user@host`.
ALTER TABLE profiles ADD COLUMN created_by text;
ALTER TABLE gold_images ADD COLUMN created_by text;
