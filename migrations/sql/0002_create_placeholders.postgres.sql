-- A source's placeholder (a data: URI of a tiny preview), read in the same
-- query as its thumbnails. One row per source, so identical placeholders of
-- two sources do not collide with thumbnails_thumbnails' unique names.
CREATE TABLE IF NOT EXISTS thumbnails_placeholders (
    source     TEXT NOT NULL PRIMARY KEY REFERENCES thumbnails_sources (name) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
