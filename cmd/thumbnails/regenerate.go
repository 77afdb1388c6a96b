package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/processors"
)

const regenerateExample = `  # the eager and async sizes (and the lazy ones a row already has) of every row
  thumbnails regenerate --dsn app.db --table foods --column image --sizes thumbnails.yaml

  # only what is missing, e.g. after adding a size to the YAML
  thumbnails regenerate --dsn app.db --table foods --column image --sizes thumbnails.yaml --only-missing

  # one size of three rows, on PostgreSQL
  thumbnails regenerate --dsn postgres://app@db/app --table foods --column image \
      --sizes thumbnails.yaml --size medium --ids 2,3,17

  # how many rows would be regenerated, changing nothing
  thumbnails regenerate --dsn app.db --table foods --column image --sizes thumbnails.yaml --only-missing --dry-run

  # resume an interrupted run
  thumbnails regenerate --dsn app.db --table foods --column image --sizes thumbnails.yaml --after 17`

func newRegenerateCommand(g *globalFlags) *cobra.Command {
	var (
		sizeArgs    []string // each --size given, comma-separated names
		ids         string
		after       string
		onlyMissing bool
		workers     int
		dryRun      bool
		background  string
	)
	cmd := &cobra.Command{
		Use:   "regenerate",
		Short: "Make the thumbnails of the column again, or only the missing ones",
		Long: `regenerate makes the thumbnails of every row with an image, in primary key
order: the sizes given with --size, or else the eager and async sizes (made
here, not queued) and the lazy sizes a row already has. A size whose format
changed in the YAML gets a new file name, and its old file is deleted
(--dry-run counts the rows and changes nothing). A row that fails is
printed and the run goes on; the exit status is then 1. So does a row whose
--focus value is no focal point ("x,y", each from 0 to 1), when a size to
make crops around it. Ctrl-C stops after the rows in progress and prints
the --after value that resumes the run.

A JPEG size of a transparent source is flattened onto --background, which
must be the application's Config.Background (white when it sets none).`,
		Example: regenerateExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := require(cmd, "dsn", "table", "column", "sizes"); err != nil {
				return err
			}
			if workers < 0 {
				return usagef("%s: --workers must be 0 (one per CPU) or more, got %d", cmd.Name(), workers)
			}
			// An empty name (an unset shell variable) is no size, not
			// every size: a string slice flag would drop it.
			var sizeNames []string
			for _, arg := range sizeArgs {
				for n := range strings.SplitSeq(arg, ",") {
					if n = strings.TrimSpace(n); n == "" {
						return usagef("%s: --size names no size: name one of %s, or leave --size out for the default sizes", cmd.Name(), g.sizes)
					}
					sizeNames = append(sizeNames, n)
				}
			}
			bg, err := processors.ParseColor(background)
			if err != nil {
				return usagef("%s: --background %q: want #rrggbb, #rrggbbaa, white, black or transparent", cmd.Name(), background)
			}
			g.background = bg
			opts := thumbnails.RegenerateOptions{Sizes: sizeNames, OnlyMissing: onlyMissing, Workers: workers, DryRun: dryRun}
			// Every refusal comes before the plugin is registered: that
			// creates its tables in the database.
			withIDs := cmd.Flags().Changed("ids")
			if withIDs { // a malformed list is a usage error, before any I/O
				if _, err := primaryKeys(ids, textKey); err != nil {
					return err
				}
			}
			set, err := g.loadSizes()
			if err != nil {
				return err
			}
			for _, n := range sizeNames {
				if _, ok := set.Get(n); !ok {
					return usagef("%s: --size %q is not in %s", cmd.Name(), n, g.sizes)
				}
			}
			if err := g.requireRoot(); err != nil {
				return err
			}
			ctx := cmd.Context()
			if opts.IDs, opts.After, err = g.parseKeys(ctx, ids, withIDs, after); err != nil {
				return err
			}
			e, err := g.open(ctx, true, dryRun)
			if err != nil {
				return err
			}
			defer e.Close()

			rep := newReporter(ctx, "regenerate", "rows", cmd.ErrOrStderr())
			opts.Progress = rep.update
			counts, err := thumbnails.Regenerate(ctx, e.db, e.table, opts)
			counts, elapsed := rep.finish(counts)
			verb := "regenerated"
			if dryRun {
				verb = "would regenerate"
			}
			if !failedAtStart(counts, err) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s, %s\n", verb, plural(counts.Done, "row"), rep.summary(counts, elapsed, "skipped"))
			}
			if opts.IDs != nil && opts.After == nil && err == nil && ctx.Err() == nil {
				named := map[string]bool{}
				for _, id := range opts.IDs {
					named[fmt.Sprint(id)] = true
				}
				if missing := len(named) - (counts.Done + counts.Skipped + counts.Failed); missing > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: %d of the %d keys --ids names have no row in %s, or a row without an image\n", missing, len(named), g.table)
				}
			}
			switch {
			case ctx.Err() != nil:
				return interruptedError{hint: resumeHint(counts.Last, opts.After)}
			case err != nil:
				return err
			case counts.Failed > 0:
				return fmt.Errorf("%s failed", plural(counts.Failed, "row"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sizeArgs, "size", nil, "a `size` to make (repeatable, or comma-separated; an empty name is a usage error); default: the eager and async sizes and the lazy ones a row has")
	f.StringVar(&ids, "ids", "", "comma-separated primary keys of the rows to do (default: every row)")
	f.StringVar(&after, "after", "", "only rows whose primary key is greater: the resume point an interrupted run printed")
	f.BoolVar(&onlyMissing, "only-missing", false, "make only the sizes the metadata does not record")
	f.IntVar(&workers, "workers", 0, "rows processed at once (default: one per CPU)")
	f.BoolVar(&dryRun, "dry-run", false, "only count the rows that would be regenerated")
	f.StringVar(&background, "background", "white", "the application's Config.Background, onto which a JPEG size flattens transparency: #rrggbb, #rrggbbaa, white, black or transparent")
	return cmd
}

// resumeHint tells how to resume from last, the primary key up to which
// every row was handled (nil if none was: then from where this run began).
func resumeHint(last, after any) string {
	if last == nil {
		last = after
	}
	if last == nil {
		return "no row was handled; run the same command again"
	}
	return "resume with --after " + shellWord(fmt.Sprint(last))
}
