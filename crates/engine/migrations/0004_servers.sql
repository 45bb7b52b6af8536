-- 0004: saved remote file servers (SFTP, FTP, FTPS, WebDAV) to export profiles to. No secrets here:
-- passwords and key passphrases live in the OS keyring; secret_in_keyring only says one is there.
CREATE TABLE servers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL COLLATE NOCASE UNIQUE,
    protocol             TEXT NOT NULL CHECK (protocol IN ('sftp', 'ftp', 'ftps', 'webdav', 'webdavs')),
    host                 TEXT NOT NULL,
    port                 INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    base_path            TEXT NOT NULL DEFAULT '',
    user                 TEXT NOT NULL,
    key_file             TEXT,
    host_key_fingerprint TEXT,
    secret_in_keyring    INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

-- Temporary files an upload put on a server. A row lives while its upload runs ('uploading', by
-- the process of `session`) or after it failed and the temp file could not be deleted ('leftover');
-- the next connection to the server deletes those (and those of processes that died).
CREATE TABLE server_uploads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id  INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    session    TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('uploading', 'leftover')),
    created_at TEXT NOT NULL
);
CREATE INDEX server_uploads_server ON server_uploads(server_id);
