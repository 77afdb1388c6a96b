package riverjobs_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/riverjobs"
)

// Photo has one async size only.
type Photo struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:medium;dir:photos"`
}

// TestThreeWorkers saves many rows while three River clients, each with
// its own *gorm.DB and plugin as three machines would have, generate their
// async size: every size must be generated exactly once, none lost, and no
// metadata duplicated. With the race detector (as in `go test -race ./...`)
// it saves 200 rows; .ci/run also runs it without, with 2,000.
func TestThreeWorkers(t *testing.T) {
	n := 2000
	if raceEnabled || testing.Short() {
		n = 200
	}
	e := setup(t, thumbnails.Config{})
	if err := e.db.AutoMigrate(&Photo{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := photo(t, "pizza-600x400.jpg")

	const clients = 3
	for i := range clients {
		db := e.worker(t, thumbnails.Config{})
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, riverjobs.NewWorker(db))
		c, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{
			ID:                fmt.Sprintf("worker-%d", i),
			Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
			Workers:           workers,
			FetchPollInterval: 20 * time.Millisecond,
			FetchCooldown:     5 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Stop(stop)
		})
	}

	start := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		sources = make(map[string]bool, n)
		errs    []error
	)
	const savers = 4
	for s := range savers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s; i < n; i += savers {
				p := Photo{Image: field.NewImage("pizza.jpg", bytes.NewReader(data))}
				err := e.db.Create(&p).Error
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					sources[p.Image.Name()] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	saved := time.Since(start)
	if len(errs) > 0 {
		t.Fatalf("%d saves failed, first: %v", len(errs), errs[0])
	}

	states := e.waitDone(t, n, 10*time.Minute)
	took := time.Since(start)
	if states["completed"] != n || len(states) != 1 {
		t.Fatalf("job states %v, want %d completed", states, n)
	}

	// Exactly once: one file per source, saved once, and one record.
	var records []struct {
		Source string
		Name   string
	}
	if err := e.db.Table("thumbnails_thumbnails").Where("size = ?", "medium").Find(&records).Error; err != nil {
		t.Fatal(err)
	}
	if len(records) != n {
		t.Fatalf("%d medium records for %d rows", len(records), n)
	}
	for _, r := range records {
		if !sources[r.Source] {
			t.Fatalf("record for %q, which no save made", r.Source)
		}
		delete(sources, r.Source)
		if c := e.storage.savesOf(r.Name); c != 1 || !e.exists(r.Name) {
			t.Fatalf("%s saved %d times (exists %v), want once", r.Name, c, e.exists(r.Name))
		}
	}
	if len(sources) != 0 {
		t.Fatalf("%d sources lost their medium", len(sources))
	}
	if got := e.storage.total.Load(); got != int64(2*n) {
		t.Errorf("%d files saved, want %d (each source and its medium once)", got, 2*n)
	}

	var per []struct {
		Worker string
		Jobs   int
	}
	if err := e.db.Raw("SELECT attempted_by[1] AS worker, count(*) AS jobs FROM river_job WHERE kind = ? GROUP BY 1 ORDER BY 1", riverjobs.Kind).Scan(&per).Error; err != nil {
		t.Fatal(err)
	}
	if len(per) != clients {
		t.Errorf("jobs by worker: %v, want all %d clients to work", per, clients)
	}
	t.Logf("%d saves in %s (%.0f/s), all %d sizes generated %s after the first save (%.0f jobs/s); jobs by worker: %v",
		n, saved.Round(time.Millisecond), float64(n)/saved.Seconds(), n, took.Round(time.Millisecond), float64(n)/took.Seconds(), per)
}

// waitDone polls River's table until n thumbnails jobs are finished
// (completed, cancelled or discarded) and returns the count of each state.
func (e *env) waitDone(t testing.TB, n int, timeout time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		states := e.jobs(t)
		if states["completed"]+states["cancelled"]+states["discarded"] >= n {
			return states
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: jobs %v, want %d finished", timeout, states, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ *sql.DB // the clients above run on database/sql
