-- 0003: deployment profiles: a base OS image, member artifacts with roles, install options.
CREATE TABLE profiles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    base_id     INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE RESTRICT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX profiles_base ON profiles(base_id);

CREATE TABLE profile_members (
    profile_id  INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE RESTRICT,
    role        TEXT NOT NULL,
    PRIMARY KEY (profile_id, artifact_id)
) WITHOUT ROWID;
CREATE INDEX profile_members_artifact ON profile_members(artifact_id);

CREATE TABLE profile_options (
    profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (profile_id, key)
) WITHOUT ROWID;

INSERT INTO change_counters VALUES ('profiles', 0);
CREATE TRIGGER profiles_ins AFTER INSERT ON profiles BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'profiles'; END;
CREATE TRIGGER profiles_upd AFTER UPDATE ON profiles BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'profiles'; END;
CREATE TRIGGER profiles_del AFTER DELETE ON profiles BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'profiles'; END;
