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

-- What the summary of each source must be, computed from its records.
CREATE VIEW thumbnails_summaries AS
SELECT s.name AS source, (SELECT group_concat(r, char(30)) FROM (
    SELECT size || char(31) || width || char(31) || height || char(31) || name AS r FROM thumbnails_thumbnails WHERE source = s.name
    UNION ALL
    SELECT '@placeholder' || char(31) || width || char(31) || height || char(31) || data FROM thumbnails_placeholders WHERE source = s.name
)) AS summary
FROM thumbnails_sources s;

UPDATE thumbnails_sources SET summary = (SELECT summary FROM thumbnails_summaries v WHERE v.source = thumbnails_sources.name);

CREATE TRIGGER thumbnails_summary_thumbnails_insert AFTER INSERT ON thumbnails_thumbnails BEGIN
    UPDATE thumbnails_sources SET summary = (SELECT summary FROM thumbnails_summaries v WHERE v.source = thumbnails_sources.name) WHERE name = NEW.source; END;

CREATE TRIGGER thumbnails_summary_thumbnails_update AFTER UPDATE ON thumbnails_thumbnails BEGIN
    UPDATE thumbnails_sources SET summary = (SELECT summary FROM thumbnails_summaries v WHERE v.source = thumbnails_sources.name) WHERE name IN (OLD.source, NEW.source); END;

CREATE TRIGGER thumbnails_summary_thumbnails_delete AFTER DELETE ON thumbnails_thumbnails BEGIN
    UPDATE thumbnails_sources SET summary = (SELECT summary FROM thumbnails_summaries v WHERE v.source = thumbnails_sources.name) WHERE name = OLD.source; END;

CREATE TRIGGER thumbnails_summary_placeholders_insert AFTER INSERT ON thumbnails_placeholders BEGIN
    UPDATE thumbnails_sources SET summary = (SELECT summary FROM thumbnails_summaries v WHERE v.source = thumbnails_sources.name) WHERE name = NEW.source; END;

CREATE TRIGGER thumbnails_summary_placeholders_update AFTER UPDATE ON thumbnails_placeholders BEGIN
    UPDATE thumbnails_sources SET summary = (SELECT summary FROM thumbnails_summaries v WHERE v.source = thumbnails_sources.name) WHERE name IN (OLD.source, NEW.source); END;

CREATE TRIGGER thumbnails_summary_placeholders_delete AFTER DELETE ON thumbnails_placeholders BEGIN
    UPDATE thumbnails_sources SET summary = (SELECT summary FROM thumbnails_summaries v WHERE v.source = thumbnails_sources.name) WHERE name = OLD.source; END;
