CREATE TABLE IF NOT EXISTS thumbnails_sources (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- WITHOUT ROWID: rows are stored in (source, size) order, so reading the
-- thumbnails of many sources (Preload) is one seek per source, no lookups.
CREATE TABLE IF NOT EXISTS thumbnails_thumbnails (
    source     TEXT NOT NULL REFERENCES thumbnails_sources (name) ON DELETE CASCADE,
    size       TEXT NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (source, size)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS thumbnails_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT NOT NULL,
    model_table  TEXT NOT NULL,
    model_column TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
