-- Each source's records joined in one text, so that a batch read (Preload)
-- takes one value per source instead of one row per record: a record is
-- "size 31 width 31 height 31 name" (the ASCII unit separator between the
-- fields; a placeholder's size is @placeholder and its name its data), and
-- records are joined with the ASCII record separator (30). Names never hold
-- a control character (backends.CleanName refuses them), nor does a
-- placeholder's data: URI.
--
-- The records stay the truth. The summary is derived from them by the
-- trigger below, in the statement that changes them, so that it commits
-- and rolls back with them and no writer can forget it.
ALTER TABLE thumbnails_sources ADD COLUMN summary TEXT;

-- Volatile (the default), so that under READ COMMITTED a trigger that waited
-- for another transaction's lock on the source's row reads the records that
-- transaction committed.
CREATE OR REPLACE FUNCTION thumbnails_summary(src TEXT) RETURNS TEXT LANGUAGE sql AS $$
    SELECT string_agg(r, chr(30)) FROM (
        SELECT size || chr(31) || width || chr(31) || height || chr(31) || name AS r FROM thumbnails_thumbnails WHERE source = src
        UNION ALL
        SELECT '@placeholder' || chr(31) || width || chr(31) || height || chr(31) || data FROM thumbnails_placeholders WHERE source = src
    ) records
$$;

UPDATE thumbnails_sources SET summary = thumbnails_summary(name);

CREATE OR REPLACE FUNCTION thumbnails_summarize() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE thumbnails_sources SET summary = thumbnails_summary(NEW.source) WHERE name = NEW.source;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.source <> NEW.source) THEN
        UPDATE thumbnails_sources SET summary = thumbnails_summary(OLD.source) WHERE name = OLD.source;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER thumbnails_summary_thumbnails AFTER INSERT OR UPDATE OR DELETE ON thumbnails_thumbnails
    FOR EACH ROW EXECUTE FUNCTION thumbnails_summarize();

CREATE TRIGGER thumbnails_summary_placeholders AFTER INSERT OR UPDATE OR DELETE ON thumbnails_placeholders
    FOR EACH ROW EXECUTE FUNCTION thumbnails_summarize();
