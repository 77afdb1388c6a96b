package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/migrations"
)

const migrateExample = `  # copy the database's records to Redis, then run the application with Redis metadata
  thumbnails migrate-metadata --dsn app.db --redis 127.0.0.1:6379 --redis-prefix myapp \
      --from database --to redis

  # and back
  thumbnails migrate-metadata --dsn postgres://app@db/app --redis 127.0.0.1:6379 --redis-prefix myapp \
      --from redis --to database`

func newMigrateCommand(g *globalFlags) *cobra.Command {
	var (
		from, to string
		dryRun   bool
	)
	cmd := &cobra.Command{
		Use:   "migrate-metadata",
		Short: "Copy the thumbnail records between the database and Redis",
		Long: `migrate-metadata copies every thumbnail record of one metadata store into the
other: the database's thumbnails tables (created if missing) and the Redis keys
under --redis-prefix. Records already in the destination are replaced by the
same ones, so an interrupted run can simply be run again. Each source copied
ends up with the origin's records in the destination: a size the destination
records for it and the origin does not (deleted from the origin since an
earlier run, or made in the destination after the application switched to
it) is removed from the destination, so run it before the switch, not after.
Sources the origin does not record are left alone. Nothing is deleted from the
origin. --table, --column and --sizes are not needed.`,
		Example: migrateExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := require(cmd, "dsn", "redis", "from", "to"); err != nil {
				return err
			}
			for _, v := range []string{from, to} {
				if v != "database" && v != "redis" {
					return usagef("%s: --from and --to take database or redis, got %q", cmd.Name(), v)
				}
			}
			if from == to {
				return usagef("%s: --from and --to are both %s", cmd.Name(), from)
			}
			ctx := cmd.Context()
			e, err := g.open(ctx, false, false)
			if err != nil {
				return err
			}
			defer e.Close()
			// A dry run writes nothing, not even the metadata tables: from a
			// database that has none, it has nothing to copy.
			if !dryRun {
				if err := migrations.Apply(ctx, e.db); err != nil {
					return err
				}
			} else if from == "database" && !hasTable(e.db, backends.SourcesTable) {
				fmt.Fprintf(cmd.OutOrStdout(), "would copy 0 sources from %s to %s: it has no metadata tables\n", from, to)
				return nil
			}
			stores := map[string]backends.Metadata{
				"database": backends.NewDatabaseMetadata(e.db),
				"redis":    e.meta,
			}

			rep := newReporter(ctx, "migrate-metadata", "sources", cmd.ErrOrStderr())
			opts := []thumbnails.Option{thumbnails.WithProgress(rep.update)}
			if dryRun {
				opts = append(opts, thumbnails.WithDryRun())
			}
			counts, err := thumbnails.MigrateMetadata(ctx, stores[from], stores[to], opts...)
			counts, elapsed := rep.finish(counts)
			verb := "copied"
			if dryRun {
				verb = "would copy"
			}
			if !failedAtStart(counts, err) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s from %s to %s, %s\n", verb, plural(counts.Done, "source"), from, to, rep.summary(counts, elapsed, ""))
			}
			if err == nil && ctx.Err() == nil && counts.Done == 0 && counts.Failed == 0 {
				// nothing lost, but likely a wrong address or prefix
				where := "in the database: check --dsn"
				if from == "redis" {
					where = fmt.Sprintf("in Redis under prefix %q: check --redis and --redis-prefix", g.redisPrefix)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "migrate-metadata: no thumbnails are recorded %s\n", where)
			}
			if ctx.Err() != nil {
				return interruptedError{hint: "run the same command again"}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the store to copy from: database or redis (required)")
	f.StringVar(&to, "to", "", "the store to copy to: database or redis (required)")
	f.BoolVar(&dryRun, "dry-run", false, "only count the sources")
	return cmd
}
