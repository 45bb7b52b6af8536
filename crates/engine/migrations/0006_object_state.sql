-- 0006: what became of each stored object. 'ok' until recovery after a reboot or `verify` finds its
-- file gone ('missing') or its bytes no longer hashing to its name ('damaged'); re-importing the
-- same bytes, or a verify that re-hashes it fine, makes it 'ok' again. The artifact row always stays,
-- so profiles and publications that name it keep working and say what happened.
ALTER TABLE objects ADD COLUMN state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'missing', 'damaged'));

-- The library shows the state: a change moves the artifacts counter so every window refetches.
CREATE TRIGGER objects_state_upd AFTER UPDATE OF state ON objects WHEN OLD.state IS NOT NEW.state BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'artifacts'; END;
