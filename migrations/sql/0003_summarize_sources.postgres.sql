-- Each source's records joined in one text, so that a batch read (Preload)
-- takes one value per source instead of one row per record: a record is
-- "size 31 width 31 height 31 name" (the ASCII unit separator between the
-- fields; a placeholder's size is @placeholder and its name its data), and
-- records are joined with the ASCII record separator (30). Names never hold
-- a control character (backends.CleanName refuses them), nor does a
-- placeholder's data: URI.
--
-- The records stay the truth. The summary is derived from them by the
-- triggers below, in the statement that changes them, so that it commits
-- and rolls back with them and no writer can forget it.
ALTER TABLE thumbnails_sources ADD COLUMN summary TEXT;

-- Volatile (the default), so that under READ COMMITTED a trigger that waited
-- for another transaction's lock on the source's row reads the records that
-- transaction committed; PL/pgSQL, so that its query is planned once a
-- session rather than once a call.
CREATE OR REPLACE FUNCTION thumbnails_summary(src TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT string_agg(r, chr(30)) FROM (
        SELECT size || chr(31) || width || chr(31) || height || chr(31) || name AS r FROM thumbnails_thumbnails WHERE source = src
        UNION ALL
        SELECT '@placeholder' || chr(31) || width || chr(31) || height || chr(31) || data FROM thumbnails_placeholders WHERE source = src
    ) records);
END
$$;

UPDATE thumbnails_sources SET summary = thumbnails_summary(name);

-- Statement triggers with transition tables: a Put of three records
-- rebuilds its source's summary once, not once a record.
CREATE OR REPLACE FUNCTION thumbnails_summarize() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE thumbnails_sources SET summary = thumbnails_summary(name) WHERE name IN (SELECT source FROM changed_new);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE thumbnails_sources SET summary = thumbnails_summary(name)
        WHERE name IN (SELECT source FROM changed_new UNION SELECT source FROM changed_old);
    ELSE
        UPDATE thumbnails_sources SET summary = thumbnails_summary(name) WHERE name IN (SELECT source FROM changed_old);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER thumbnails_summary_thumbnails_insert AFTER INSERT ON thumbnails_thumbnails
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION thumbnails_summarize();

CREATE TRIGGER thumbnails_summary_thumbnails_update AFTER UPDATE ON thumbnails_thumbnails
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION thumbnails_summarize();

CREATE TRIGGER thumbnails_summary_thumbnails_delete AFTER DELETE ON thumbnails_thumbnails
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION thumbnails_summarize();

CREATE TRIGGER thumbnails_summary_placeholders_insert AFTER INSERT ON thumbnails_placeholders
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION thumbnails_summarize();

CREATE TRIGGER thumbnails_summary_placeholders_update AFTER UPDATE ON thumbnails_placeholders
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION thumbnails_summarize();

CREATE TRIGGER thumbnails_summary_placeholders_delete AFTER DELETE ON thumbnails_placeholders
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION thumbnails_summarize();
