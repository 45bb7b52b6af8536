-- 0016: an ISO's embedded media checksum (isomd5sum), checked in the import's read pass. Kept with
-- the bytes: 'passed' with the implanted MD5, or 'absent' for an ISO that carries none; NULL for
-- other files. A failed check refuses the import, so 'failed' never lands.
ALTER TABLE objects ADD COLUMN media_check TEXT CHECK (media_check IN ('passed', 'absent'));
ALTER TABLE objects ADD COLUMN media_md5 TEXT;
