-- The twin of local migration 0020: who last changed each artifact and profile, as `user@host`.
ALTER TABLE artifacts ADD COLUMN updated_by text;
ALTER TABLE profiles ADD COLUMN updated_by text;
