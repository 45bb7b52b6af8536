-- Who saved each image store, file server and cloud target, who trusted each key, and who last
-- changed a gold image's state or series, as `user@host`. Rows from before this migration have none.
ALTER TABLE image_stores ADD COLUMN created_by TEXT;
ALTER TABLE servers ADD COLUMN created_by TEXT;
ALTER TABLE targets ADD COLUMN created_by TEXT;
ALTER TABLE trusted_keys ADD COLUMN added_by TEXT;
ALTER TABLE gold_images ADD COLUMN updated_by TEXT;
