CREATE TABLE IF NOT EXISTS thumbnails_sources (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The primary key covers what a reader needs, so reading the thumbnails of
-- many sources (Preload) is an index-only scan.
CREATE TABLE IF NOT EXISTS thumbnails_thumbnails (
    source     TEXT NOT NULL REFERENCES thumbnails_sources (name) ON DELETE CASCADE,
    size       TEXT NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source, size) INCLUDE (name, width, height)
);

CREATE TABLE IF NOT EXISTS thumbnails_outbox (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT NOT NULL,
    model_table  TEXT NOT NULL,
    model_column TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
