-- 0013: the Windows edition a profile installs — the image's index inside its base image's
-- install.wim or install.esd (1 = the first). NULL when none is chosen: Windows Setup then asks,
-- unless the answer file selects one.
ALTER TABLE profiles ADD COLUMN edition INTEGER CHECK (edition IS NULL OR edition >= 1);
