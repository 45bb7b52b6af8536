-- Team repositories only: uploads to the bucket in progress. The row exists before the first byte is
-- sent, so collecting a tombstone never deletes bytes someone is uploading again; a multipart
-- upload records its id and each part sent, so one cut by a crash or a lost connection is resumed
-- by the next import of the same bytes, from any desktop, without sending those parts again.
CREATE TABLE uploads (
    sha256     text PRIMARY KEY,
    upload_id  text NOT NULL DEFAULT '',
    part_size  bigint NOT NULL,
    size       bigint NOT NULL,
    started_by text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
-- Parts are recorded against the upload id they were sent to: a desktop still sending parts of an
-- upload that another one has started over (or finished) never mixes its parts into the new one.
CREATE TABLE upload_parts (
    sha256    text NOT NULL REFERENCES uploads(sha256) ON DELETE CASCADE,
    upload_id text NOT NULL,
    part      bigint NOT NULL,
    etag      text NOT NULL,
    md5       text NOT NULL,
    PRIMARY KEY (sha256, upload_id, part)
);
