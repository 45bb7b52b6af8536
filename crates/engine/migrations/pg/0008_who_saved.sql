-- The twin of local migration 0022: who saved each image store, file server and cloud target, who
-- trusted each key, and who last changed a gold image's state or series, as `user@host`.
ALTER TABLE image_stores ADD COLUMN created_by text;
ALTER TABLE servers ADD COLUMN created_by text;
ALTER TABLE targets ADD COLUMN created_by text;
ALTER TABLE trusted_keys ADD COLUMN added_by text;
ALTER TABLE gold_images ADD COLUMN updated_by text;
