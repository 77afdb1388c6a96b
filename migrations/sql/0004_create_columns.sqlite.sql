-- The image columns of tables other than their models' own that rows were
-- copied into (db.Table("foods_archive").Create(&food) of a loaded Food),
-- so that every process's clean-up checks them before it deletes a source
-- that a row of theirs may still hold, after a restart too.
CREATE TABLE IF NOT EXISTS thumbnails_columns (
    table_name  TEXT NOT NULL,
    column_name TEXT NOT NULL,
    PRIMARY KEY (table_name, column_name)
) WITHOUT ROWID;
