-- 0010: image attributes, as Danube Cloud's image API has them: a short unique alias, access
-- (public, private, deleted: an image in use is marked deleted instead of deleted, which hides it
-- from new use), the owner (the OS user who imported it; '' for files imported before), resize and
-- deploy flags; and where each artifact came from (a file, a URL, an image store).
ALTER TABLE artifacts ADD COLUMN alias TEXT COLLATE NOCASE;
ALTER TABLE artifacts ADD COLUMN access TEXT NOT NULL DEFAULT 'private' CHECK (access IN ('public', 'private', 'deleted'));
ALTER TABLE artifacts ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE artifacts ADD COLUMN resize INTEGER NOT NULL DEFAULT 0 CHECK (resize IN (0, 1));
ALTER TABLE artifacts ADD COLUMN deploy INTEGER NOT NULL DEFAULT 0 CHECK (deploy IN (0, 1));
ALTER TABLE artifacts ADD COLUMN source_kind TEXT NOT NULL DEFAULT 'file' CHECK (source_kind IN ('file', 'url', 'store'));
ALTER TABLE artifacts ADD COLUMN source_url TEXT;
ALTER TABLE artifacts ADD COLUMN manifest_url TEXT;
ALTER TABLE artifacts ADD COLUMN source_store TEXT;
ALTER TABLE artifacts ADD COLUMN remote_id TEXT;
CREATE UNIQUE INDEX artifacts_alias ON artifacts(alias) WHERE alias IS NOT NULL;
CREATE INDEX artifacts_access ON artifacts(access);
