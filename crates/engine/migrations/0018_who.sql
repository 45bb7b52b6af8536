-- Who added each artifact and who ran each job, as `user@host`: on a desktop's own repository it
-- tells the CLI's and the app's users apart, and on a team repository (issue 18) the admins.
-- Rows from before this migration have none (shown as unknown).
ALTER TABLE artifacts ADD COLUMN created_by TEXT;
ALTER TABLE jobs ADD COLUMN run_by TEXT;
