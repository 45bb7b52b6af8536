-- Which processes are working on the team repository (design §1.4). Each one that opens it
-- registers its staging session here and holds the advisory lock (SESSION_LOCK_NS, lock_key) on its
-- catalog connection for as long as it lives, taking it again when it reconnects. A job whose
-- session is registered but whose lock nobody holds was left by a process that died (or lost its
-- connection for good): any desktop that opens the repository marks it interrupted. Sessions of
-- builds before this table have no row; only their own desktop settles their jobs.
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    run_by     text NOT NULL,
    pid        bigint NOT NULL,
    started_at text NOT NULL,
    lock_key   bigint NOT NULL
);
