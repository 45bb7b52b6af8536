-- 0002: objects are committed from the page cache; each remembers the boot it was written in until
-- it is known to be on disk (fsynced, or re-hashed after a reboot). NULL means settled.
ALTER TABLE objects ADD COLUMN unsettled_boot TEXT;
CREATE INDEX objects_unsettled ON objects(unsettled_boot) WHERE unsettled_boot IS NOT NULL;
