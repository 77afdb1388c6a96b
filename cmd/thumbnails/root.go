package main

import (
	"fmt"
	"image/color"
	"io"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
)

// globalFlags are the persistent flags every subcommand shares.
type globalFlags struct {
	dsn         string
	table       string
	column      string
	pk          string
	dir         string
	sizes       string
	storageRoot string
	baseURL     string
	baseDir     string
	redis       string
	redisPrefix string
	focus       string
	// background is regenerate's --background, the application's
	// Config.Background; nil (the other subcommands make no image) is the
	// plugin's default.
	background color.Color
}

const rootLong = `thumbnails runs the bulk operations of the thumbnails GORM plugin on any
database, without the application's Go types: --table, --column and --pk name
the image column, --sizes the YAML of its sizes (every size applies to it),
and --storage-root, --base-url and --base-dir (and regenerate's --background)
must match the application's plugin configuration.

Metadata is read from the database's thumbnails tables, or from Redis when
--redis is set.

Progress goes to stderr: a bar on a terminal, otherwise a line every 2s or
100 rows and each failed row as it happens. The summary goes to stdout.

Exit status: 0 success; 1 runtime failure (including any row that failed);
2 usage error; 130 (SIGINT) or 143 (SIGTERM) when interrupted, after the rows
in progress are finished and how to resume is printed.`

// newRootCommand returns the thumbnails command with its subcommands,
// writing to stdout and stderr.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	var g globalFlags
	root := &cobra.Command{
		Use:           "thumbnails",
		Short:         "Regenerate, delete, prune, list and migrate the thumbnails of an image column",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		// runnable only to turn an unknown subcommand into a usage error
		DisableFlagsInUseLine: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return usagef("%s; see thumbnails --help", msg)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("a subcommand is required; see thumbnails --help")
		},
		// before anything is opened, let alone created
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return g.check(cmd) },
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		if !cmd.HasParent() {
			return usageError{err}
		}
		return usagef("%s: %w", cmd.Name(), err)
	})

	f := root.PersistentFlags()
	f.StringVar(&g.dsn, "dsn", "", "database: a SQLite file path, or a postgres:// or postgresql:// URL")
	f.StringVar(&g.table, "table", "", "the table holding the image column")
	f.StringVar(&g.column, "column", "", "the image column")
	f.StringVar(&g.pk, "pk", "id", "the table's single-column primary key, or a column with a unique constraint or index (and a value in every row with an image); on a view, any column, at your word")
	f.StringVar(&g.dir, "dir", "", "storage folder of the column's sources (default: the table)")
	f.StringVar(&g.focus, "focus", "", "the row's focal point column (field.Focus), which focal sizes crop around")
	f.StringVar(&g.sizes, "sizes", "", "path of the sizes YAML (or JSON) file: the application's (the command makes async sizes itself)")
	f.StringVar(&g.storageRoot, "storage-root", thumbnails.DefaultStorageRoot, "folder of the file storage")
	f.StringVar(&g.baseURL, "base-url", thumbnails.DefaultBaseURL, "URL under which the storage is served")
	f.StringVar(&g.baseDir, "base-dir", thumbnails.DefaultBaseDir, "storage folder of thumbnails")
	f.StringVar(&g.redis, "redis", "", "Redis address host:port (or redis:// URL): metadata is in Redis rather than the database")
	f.StringVar(&g.redisPrefix, "redis-prefix", "thumbnails", "key prefix of the Redis metadata")

	root.AddCommand(
		newRegenerateCommand(&g),
		newDeleteCommand(&g),
		newPruneCommand(&g),
		newMigrateCommand(&g),
		newListCommand(&g),
	)
	return root
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: takes no arguments, got %q", cmd.Name(), strings.Join(args, " "))
	}
	return nil
}

// require returns a usage error naming the first of the flags (by name)
// that is empty.
func require(cmd *cobra.Command, names ...string) error {
	for _, name := range names {
		if f := cmd.Flag(name); f == nil || f.Value.String() == "" {
			return usagef("%s: --%s is required", cmd.Name(), name)
		}
	}
	return nil
}

// check refuses, as usage errors, the values of global flags that are wrong
// whatever the database holds: a storage folder that is not a clean
// relative one, a --redis that is not host:port or a redis:// URL (a user
// and password before a host:port, which would be taken for part of the
// host, included, and a URL whose password holds an unescaped "/", "?" or
// "#", which go-redis would read in part as its host, port or path).
func (g *globalFlags) check(cmd *cobra.Command) error {
	for _, f := range []struct{ flag, value string }{{"dir", g.dir}, {"base-dir", g.baseDir}} {
		if f.value == "" && f.flag == "dir" {
			continue
		}
		if _, err := backends.CleanName(f.value); err != nil || hasHiddenSegment(f.value) {
			return usagef("%s: --%s %q: want a relative folder of the storage, without \"..\" or a segment starting with \".\"", cmd.Name(), f.flag, f.value)
		}
	}
	if g.redis != "" {
		if strings.Contains(g.redis, "://") {
			if err := unescapedUserinfo(g.redis, "/?#"); err != nil {
				return usagef("%s: --redis %s: %w", cmd.Name(), redactedURL(g.redis), err)
			}
			if _, err := redis.ParseURL(g.redis); err != nil {
				return usagef("%s: --redis %s: %w", cmd.Name(), redactedURL(g.redis), parseReason(g.redis, err))
			}
		} else if _, _, err := net.SplitHostPort(g.redis); err != nil || strings.Contains(g.redis, "@") {
			// a user and password go in a redis:// URL; printed without them
			return usagef("%s: --redis %q: want host:port or a redis:// URL", cmd.Name(), redactedRedis(g.redis))
		}
	}
	return nil
}

// hasHiddenSegment reports whether a segment of dir starts with ".".
func hasHiddenSegment(dir string) bool {
	for seg := range strings.SplitSeq(dir, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}
