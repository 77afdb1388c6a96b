// Command thumbnails runs the bulk operations of the thumbnails GORM plugin
// on any database, without the application's Go types: it names the table,
// its image column and its primary key with flags.
//
//	thumbnails regenerate --dsn app.db --table foods --column image --sizes thumbnails.yaml
//	thumbnails delete     --dsn app.db --table foods --column image --sizes thumbnails.yaml --size old
//	thumbnails prune      --dsn app.db --table foods --column image --sizes thumbnails.yaml --dry-run
//	thumbnails list       --dsn app.db --table foods --column image --id 17
//	thumbnails migrate-metadata --dsn app.db --redis 127.0.0.1:6379 --from database --to redis
//
// Exit status: 0 on success, 1 on a runtime failure (a row that failed
// included), 2 on a usage error, 128+signal (130 for SIGINT, 143 for
// SIGTERM) when interrupted.
package main

import (
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, sig, stop := withSignals()
	defer stop()
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return exitStatus(err, sig(), stderr)
}
