package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gorm-thumbnails/thumbnails"
)

const pruneExample = `  # what would go (files older than 1h)
  thumbnails prune --dsn app.db --table foods --column image --sizes thumbnails.yaml --dry-run

  # remove it; another table's images share the same metadata and storage
  thumbnails prune --dsn app.db --table foods --column image --sizes thumbnails.yaml \
      --also users.avatar --min-age 24h`

func newPruneCommand(g *globalFlags) *cobra.Command {
	var (
		dryRun bool
		minAge time.Duration
		also   []string
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Find and remove what a crash left behind: orphan files, sources and records",
		Long: `prune finds what a crash or an outage left behind, and removes it unless
--dry-run is given:

  file    a file under --storage-root that no metadata and no row references
  source  a source recorded in the metadata that no row of --table.--column
          (nor of an --also column) references, with its thumbnails
  record  a metadata record whose file is gone
  lost    a recorded source whose own file is gone: reported, never removed
          (rows still reference it, and its thumbnails still serve)

Each item removed (with --dry-run, found) is printed on a line of its own,
then a summary; an item whose removal failed is printed on stderr instead,
and the run goes on. Files younger than --min-age are left alone, so that
uploads being saved are safe. Ctrl-C stops after the item in progress and
prints the summary of what was removed: running the same command again
removes the rest.

Every image column whose sources and thumbnails live in the same storage and
metadata must be named, --table/--column and one --also per other column,
unless the plugin recorded it in thumbnails_columns (it records every column
its writes go through): the sources of a column that is neither named nor
recorded are seen as unreferenced and deleted. Likewise --storage-root must hold only the plugin's files. When it
holds none of the files the metadata records (a wrong --storage-root), or
the metadata records nothing while the storage holds files, or records
sources while no row of the columns holds an image (a wrong --dsn, --redis
or --redis-prefix), or a column recorded in thumbnails_columns is gone (its
table dropped or renamed: a renamed table's rows still hold their images),
prune removes nothing and fails; --force removes what it found all the same,
for files that really are all gone or all orphans, or tables dropped for good.`,
		Example: pruneExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := require(cmd, "dsn", "table", "column", "sizes"); err != nil {
				return err
			}
			if minAge < 0 {
				return usagef("%s: --min-age must not be negative, got %s", cmd.Name(), minAge)
			}
			models := []thumbnails.Table{{Name: g.table, Column: g.column}}
			for _, a := range also {
				// the last dot: the table may be schema-qualified
				i := strings.LastIndexByte(a, '.')
				table, column := a[:max(i, 0)], a[i+1:]
				if i < 0 || table == "" || column == "" {
					return usagef("%s: --also %q: want TABLE.COLUMN", cmd.Name(), a)
				}
				models = append(models, thumbnails.Table{Name: table, Column: column})
			}
			ctx := cmd.Context()
			if err := g.requireRoot(); err != nil {
				return err
			}
			// before the plugin is registered: that creates its tables
			if _, err := g.checkTables(ctx, false, models[1:]...); err != nil {
				return err
			}
			if !dryRun && !force {
				why, err := g.looksUnrelated(ctx, models)
				if err != nil {
					return err
				}
				if why != "" {
					return errors.New(why)
				}
			}
			e, err := g.open(ctx, true, dryRun)
			if err != nil {
				return err
			}
			defer e.Close()
			targets := make([]any, len(models))
			for i, m := range models {
				targets[i] = m
			}
			targets[0] = e.table // with --pk, --dir and --focus
			if minAge == 0 {
				minAge = time.Nanosecond // PruneOptions takes zero for its default
			}

			opts := thumbnails.PruneOptions{Delete: !dryRun, MinAge: minAge, Models: targets, Force: force}
			// The removal's progress; a dry run's is instant.
			rep := newReporter(ctx, "prune", "items", cmd.ErrOrStderr())
			rep.errorNamesItem = true
			total := 0 // items to remove, once the first is handled
			if !dryRun {
				opts.Progress = func(p thumbnails.Progress) {
					total = p.Total
					rep.update(p)
				}
			}
			report, err := thumbnails.Prune(ctx, e.db, opts)
			counts, elapsed := rep.finish(report.Counts)
			out := cmd.OutOrStdout()
			if errors.Is(err, thumbnails.ErrMissingColumns) {
				// nothing removed: a renamed table's rows hold their images
				return fmt.Errorf("%w; give --force if they were dropped for good", err)
			}
			for _, c := range report.Missing {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s is recorded as holding images, but it is gone (its table dropped or renamed?): its rows were not read\n", c)
			}
			if errors.Is(err, thumbnails.ErrWrongStorage) {
				// nothing removed: the report lists what was found
				return fmt.Errorf("%w: check --storage-root %q (or give --force if the files really are all gone)", err, g.storageRoot)
			}
			// with Delete, the lists hold only what was removed
			for _, f := range report.Files {
				fmt.Fprintf(out, "file    %s\n", f)
			}
			for _, s := range report.Sources {
				fmt.Fprintf(out, "source  %s\n", s)
			}
			for _, r := range report.Records {
				fmt.Fprintf(out, "record  %s %s %s\n", r.Source, r.Size, r.Name)
			}
			for _, s := range report.Lost { // reported, never removed
				fmt.Fprintf(out, "lost    %s (its file is gone; rows still reference it)\n", s)
			}
			listed := fmt.Sprintf("%s, %s, %s", plural(len(report.Files), "file"),
				plural(len(report.Sources), "source"), plural(len(report.Records), "record"))
			interrupted := ctx.Err() != nil
			switch {
			case dryRun && err != nil, !interrupted && failedAtStart(counts, err): // the error is the one line
			case dryRun:
				fmt.Fprintf(out, "found %s (dry run: nothing removed)\n", listed)
			default:
				kept := "lost sources kept"
				if counts.Skipped == 1 {
					kept = "lost source kept"
				}
				fmt.Fprintf(out, "removed %s, %s\n", listed, rep.summary(counts, elapsed, kept))
			}
			switch {
			case interrupted:
				hint := "nothing removed; run the same command again"
				if total > 0 {
					hint = fmt.Sprintf("%d of %s removed; run the same command again to remove the rest", counts.Done, plural(total, "item"))
				}
				return interruptedError{hint: hint}
			case counts.Failed > 0:
				return fmt.Errorf("%s failed", plural(counts.Failed, "item"))
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "only list what would be removed")
	f.DurationVar(&minAge, "min-age", thumbnails.DefaultPruneMinAge, "leave alone files younger than this (0: any age)")
	f.BoolVar(&force, "force", false, "remove even when the storage, the metadata and the rows look unrelated (see above)")
	f.StringArrayVar(&also, "also", nil, "another image column, TABLE.COLUMN or SCHEMA.TABLE.COLUMN, whose sources share the storage and metadata (repeatable)")
	return cmd
}
