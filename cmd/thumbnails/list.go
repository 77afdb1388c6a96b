package main

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gorm.io/gorm/clause"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

const listExample = `  thumbnails list --dsn app.db --table foods --column image --id 17

  # with the metadata in Redis
  thumbnails list --dsn app.db --table foods --column image --id 17 --redis 127.0.0.1:6379 --redis-prefix myapp`

func newListCommand(g *globalFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print the recorded thumbnails of one row",
		Long: `list reads the source image of one row (--table, --column, by --pk) and prints
each thumbnail the metadata records for it, one a line: size, storage name,
width x height, URL; a placeholder, which is no file, shows as "inline". A
row that does not exist or has no image is an error, as is a database without
the plugin's tables when --redis is not given. --sizes is not needed.`,
		Example: listExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := require(cmd, "dsn", "table", "column", "id"); err != nil {
				return err
			}
			ctx := cmd.Context()
			e, err := g.open(ctx, false, false)
			if err != nil {
				return err
			}
			defer e.Close()
			if e.redis == nil { // the metadata is the database's: it needs the plugin's tables
				switch {
				case !hasTable(e.db, backends.ThumbnailsTable):
					return errors.New("list: the database has no thumbnails metadata: check --dsn, or give --redis (and --redis-prefix) when the application keeps it in Redis")
				case !hasTable(e.db, backends.PlaceholdersTable):
					return errors.New("list: the thumbnails tables of the database are older than this command's: the application, run with this version of the plugin, brings them up to date")
				}
			}

			parse, err := keyParser(e.db, g.table, g.pk)
			if err != nil {
				return err
			}
			key, err := parse(id)
			if err != nil {
				return err
			}
			var sources []sql.NullString
			err = e.db.Table("?", clause.Table{Name: g.table}). // quoted, whatever the name
										Where(clause.Eq{Column: clause.Column{Name: g.pk}, Value: key}).
										Clauses(clause.Select{Columns: []clause.Column{{Name: g.column}}}). // quoted, whatever the name
										Limit(1).Find(&sources).Error
			if err != nil {
				return fmt.Errorf("read %s.%s: %w", g.table, g.column, err)
			}
			if len(sources) == 0 {
				return fmt.Errorf("list: %s has no row with %s = %s", g.table, g.pk, id)
			}
			source := sources[0].String
			if source == "" {
				return fmt.Errorf("list: the row of %s with %s = %s has no image in %s", g.table, g.pk, id, g.column)
			}
			thumbs, err := e.meta.Thumbnails(ctx, source)
			if err != nil {
				return err
			}
			if len(thumbs) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "list: no thumbnails recorded for %s\n", source)
				return nil
			}
			names := make([]string, 0, len(thumbs))
			for n := range thumbs {
				names = append(names, n)
			}
			slices.Sort(names)
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, n := range names {
				t := thumbs[n]
				if !t.IsFile() { // a placeholder: its data: URI is the record itself
					fmt.Fprintf(w, "%s\tinline (%d bytes)\t%dx%d\t-\n", t.Size, len(t.Name), t.Width, t.Height)
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%dx%d\t%s\n", t.Size, t.Name, t.Width, t.Height, e.storage.URL(t.Name))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "primary key of the row (required)")
	return cmd
}
