-- Who last changed each artifact and profile, as `user@host` (who made it is created_by since
-- 0018/0019). Rows not changed since this migration have none.
ALTER TABLE artifacts ADD COLUMN updated_by TEXT;
ALTER TABLE profiles ADD COLUMN updated_by TEXT;
