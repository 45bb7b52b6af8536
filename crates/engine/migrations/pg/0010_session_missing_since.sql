-- When a desktop first found a session's lock missing (server time); cleared when the session holds
-- its lock again. A session is judged dead only once its lock has been missing for the grace period
-- (IMAGESMITH_SESSION_GRACE): a lost connection, a server restart or a failover drops the lock of a
-- live process too, which takes it again with its next statement.
ALTER TABLE sessions ADD COLUMN missing_since timestamptz;
