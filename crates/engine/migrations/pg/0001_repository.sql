-- The team repository itself: one row, made by the first connection to an empty database.
-- (Team schema migrations are append-only, like the local ones: never edit an applied file;
-- schema_version, which records them, is made by the migrator before the first one runs.)
CREATE TABLE repository (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    one_row boolean NOT NULL DEFAULT true UNIQUE CHECK (one_row)
);
