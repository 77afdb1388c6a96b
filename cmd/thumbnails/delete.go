package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gorm-thumbnails/thumbnails"
)

const deleteExample = `  # what would go
  thumbnails delete --dsn app.db --table foods --column image --sizes thumbnails.yaml --size small --dry-run

  # remove the files and records of size "small" of every row
  thumbnails delete --dsn app.db --table foods --column image --sizes thumbnails.yaml --size small`

func newDeleteCommand(g *globalFlags) *cobra.Command {
	var (
		size   string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete one size of the thumbnails of every row: files and metadata",
		Long: `delete removes the thumbnails of one size, files and metadata, for every row
of the column, and leaves the other sizes alone. The file names come from the
metadata, so a size that is no longer in the sizes YAML can be deleted too
(--sizes is still needed, for the plugin). It is safe to run again.`,
		Example: deleteExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := require(cmd, "dsn", "table", "column", "sizes", "size"); err != nil {
				return err
			}
			if err := g.requireRoot(); err != nil {
				return err
			}
			ctx := cmd.Context()
			// before the plugin is registered: that creates its tables
			if _, err := g.checkTables(ctx, true); err != nil {
				return err
			}
			e, err := g.open(ctx, true, dryRun)
			if err != nil {
				return err
			}
			defer e.Close()
			if _, ok := e.sizes.Get(size); !ok {
				// allowed (a size taken out of the YAML), but also what a
				// typo looks like: say so, and the summary tells the rest
				fmt.Fprintf(cmd.ErrOrStderr(), "delete: size %q is not in %s: only the thumbnails recorded under that name are deleted\n", size, g.sizes)
			}

			rep := newReporter(ctx, "delete", "rows", cmd.ErrOrStderr())
			opts := []thumbnails.Option{thumbnails.WithProgress(rep.update)}
			if dryRun {
				opts = append(opts, thumbnails.WithDryRun())
			}
			counts, err := thumbnails.DeleteSize(ctx, e.db, e.table, g.column, size, opts...)
			counts, elapsed := rep.finish(counts)
			verb := "deleted"
			if dryRun {
				verb = "would delete"
			}
			if !failedAtStart(counts, err) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s size %s of %s, %s\n", verb, size, plural(counts.Done, "row"), rep.summary(counts, elapsed, "without it"))
			}
			switch {
			case ctx.Err() != nil:
				return interruptedError{hint: "run the same command again to delete the rest"}
			case err != nil:
				return err
			case counts.Failed > 0:
				return fmt.Errorf("%s failed", plural(counts.Failed, "row"))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&size, "size", "", "the size to delete (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only count the rows that have the size")
	return cmd
}
