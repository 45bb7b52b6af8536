-- Team repositories only: the bucket keys of objects whose last row was deleted. The object is
-- deleted from the bucket only after a grace period in which no row names its bytes again, so a
-- delete racing a re-import of the same bytes on another desktop never loses them.
CREATE TABLE object_tombstones (
    sha256 text PRIMARY KEY,
    since  timestamptz NOT NULL DEFAULT now()
);
