package riverjobs_test

import (
	"context"
	"log"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/riverjobs"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// Wiring the plugin and River together: one client both inserts the jobs
// of this program's saves and works the queue. It needs a PostgreSQL
// server, so it is compiled but not run; the package's tests run the same
// wiring against one.
func Example() {
	ctx := context.Background()
	db, err := gorm.Open(postgres.Open("postgres://postgres@127.0.0.1:5432/app"), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := riverjobs.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		log.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, riverjobs.NewWorker(db))
	client, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers: workers,
	})
	if err != nil {
		log.Fatal(err)
	}
	set, err := sizes.LoadFile("thumbnails.yaml") // with `async: true` on the sizes to make later
	if err != nil {
		log.Fatal(err)
	}
	cfg := thumbnails.Config{Sizes: set, Enqueuer: riverjobs.NewEnqueuer(client, nil)}
	if err := db.Use(thumbnails.Plugin(cfg)); err != nil {
		log.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer client.Stop(ctx)
}
