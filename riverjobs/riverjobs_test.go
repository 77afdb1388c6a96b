package riverjobs_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
	"github.com/gorm-thumbnails/thumbnails/riverjobs"
)

var errRollback = errors.New("roll back")

func TestRollbackQueuesNothing(t *testing.T) {
	e := setup(t, thumbnails.Config{})
	food := newFood(t, "pizza")
	var source string
	err := e.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&food).Error; err != nil {
			return err
		}
		source = food.Image.Name()
		if got := e.jobs(t); len(got) != 0 {
			t.Errorf("outside the transaction, jobs are visible before commit: %v", got)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if got := e.jobs(t); len(got) != 0 {
		t.Fatalf("jobs after rollback: %v, want none", got)
	}
	if source == "" || e.exists(source) {
		t.Errorf("source %q of the rolled back save is still stored", source)
	}
}

func TestCommittedSaveRunsJob(t *testing.T) {
	e := setup(t, thumbnails.Config{})
	ctx := context.Background()
	food := newFood(t, "pizza")
	if err := e.db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	if got := e.jobs(t); got["available"] != 1 || len(got) != 1 {
		t.Fatalf("jobs after commit: %v, want 1 available", got)
	}
	all, err := food.Image.Thumbnails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all["small"]; !ok || len(all) != 1 {
		t.Fatalf("Thumbnails() right after the save = %v, want only the eager small", all)
	}

	_, events := e.startWorkers(t, e.worker(t, thumbnails.Config{}), 2)
	ev := waitJobs(t, events, 1, 30*time.Second)[0]
	if ev.Kind != river.EventKindJobCompleted {
		t.Fatalf("job %s: %v", ev.Kind, ev.Job.Errors)
	}

	var loaded Food
	if err := e.db.First(&loaded, food.ID).Error; err != nil {
		t.Fatal(err)
	}
	recs, err := backends.NewDatabaseMetadata(e.db).Thumbnails(ctx, loaded.Image.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("records after the job: %v, want small and medium", recs)
	}
	saves := e.storage.total.Load()
	th, err := loaded.Image.Thumbnail(ctx, "medium")
	if err != nil {
		t.Fatal(err)
	}
	if th.Width != 400 || th.Height != 267 || !e.exists(th.Name) || th.Name != recs["medium"].Name {
		t.Fatalf("medium = %+v (exists %v), want the job's 400x267 %q", th, e.exists(th.Name), recs["medium"].Name)
	}
	if e.storage.total.Load() != saves {
		t.Error("reading the generated size stored a file")
	}
	// The saved value's cache predates the job: it reads metadata again.
	th2, err := food.Image.Thumbnail(ctx, "medium")
	if err != nil || th2 != th {
		t.Fatalf("medium through the saved value = %+v, %v; want %+v", th2, err, th)
	}
	if got := e.jobs(t); got["completed"] != 1 {
		t.Errorf("jobs: %v, want 1 completed", got)
	}
}

func TestPendingSize(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		fallback string
		policy   thumbnails.PendingPolicy
		wantURL  string // a fallback answer
		wantErr  error
		generate bool
	}{
		{name: "fallback", fallback: "/static/wait.png", wantURL: "/static/wait.png"},
		{name: "fallback wins over an error", fallback: "/static/wait.png", policy: thumbnails.PendingError, wantURL: "/static/wait.png"},
		{name: "generated on demand", generate: true},
		{name: "error", policy: thumbnails.PendingError, wantErr: thumbnails.ErrPending},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, thumbnails.Config{Sizes: testSizes(tc.fallback), OnPending: tc.policy})
			food := newFood(t, "pizza")
			if err := e.db.Create(&food).Error; err != nil {
				t.Fatal(err)
			}
			var loaded Food
			if err := e.db.First(&loaded, food.ID).Error; err != nil {
				t.Fatal(err)
			}
			saves := e.storage.total.Load()
			th, err := loaded.Image.Thumbnail(ctx, "medium")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.wantURL != "":
				if th.URL != tc.wantURL || th.Name != "" {
					t.Fatalf("pending medium = %+v, want the fallback %s and no name", th, tc.wantURL)
				}
				if e.storage.total.Load() != saves {
					t.Error("a fallback answer stored a file")
				}
			case tc.generate:
				if th.Width != 400 || !e.exists(th.Name) || e.storage.savesOf(th.Name) != 1 {
					t.Fatalf("medium generated on demand = %+v, exists %v", th, e.exists(th.Name))
				}
				// The job then finds it done and stores nothing.
				_, events := e.startWorkers(t, e.worker(t, thumbnails.Config{}), 1)
				if ev := waitJobs(t, events, 1, 30*time.Second)[0]; ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("job %s", ev.Kind)
				}
				if n := e.storage.savesOf(th.Name); n != 1 {
					t.Errorf("medium saved %d times, want once", n)
				}
			}
		})
	}
}

func TestReplacedOrDeletedSourceJobsAreNoOps(t *testing.T) {
	e := setup(t, thumbnails.Config{})
	ctx := context.Background()
	replaced, deleted := newFood(t, "replaced"), newFood(t, "deleted")
	if err := e.db.Create(&replaced).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.db.Create(&deleted).Error; err != nil {
		t.Fatal(err)
	}
	oldSource := replaced.Image.Name()
	replaced.Image = newFood(t, "").Image
	if err := e.db.Save(&replaced).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.db.Delete(&deleted).Error; err != nil {
		t.Fatal(err)
	}
	if got := e.jobs(t); got["available"] != 3 {
		t.Fatalf("jobs: %v, want 3 available (two first saves, one replacement)", got)
	}
	_, events := e.startWorkers(t, e.worker(t, thumbnails.Config{}), 2)
	for _, ev := range waitJobs(t, events, 3, 30*time.Second) {
		if ev.Kind != river.EventKindJobCompleted {
			t.Errorf("job for %s: %s", ev.Job.EncodedArgs, ev.Kind)
		}
	}
	meta := backends.NewDatabaseMetadata(e.db)
	for _, source := range []string{oldSource, deleted.Image.Name()} {
		recs, err := meta.Thumbnails(ctx, source)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 0 {
			t.Errorf("a job outlived its row and recorded %v", recs)
		}
	}
	for name := range e.storage.saves {
		if name == "thumbnails/"+oldSource[:len(oldSource)-len(".jpg")]+"_medium.jpg" {
			t.Errorf("the job of a replaced source stored %s", name)
		}
	}
	recs, err := meta.Thumbnails(ctx, replaced.Image.Name())
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := recs["medium"]; !ok || !e.exists(m.Name) {
		t.Fatalf("the replacement's medium: %v", recs)
	}
}

func TestGenerateIsIdempotent(t *testing.T) {
	e := setup(t, thumbnails.Config{})
	ctx := context.Background()
	food := newFood(t, "pizza")
	if err := e.db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	job := thumbnails.Job{Source: food.Image.Name(), Size: "medium", Table: "foods", Column: "image"}
	if err := thumbnails.Generate(ctx, e.db, job); err != nil {
		t.Fatal(err)
	}
	meta := backends.NewDatabaseMetadata(e.db)
	recs, _ := meta.Thumbnails(ctx, job.Source)
	name := recs["medium"].Name
	if name == "" || e.storage.savesOf(name) != 1 {
		t.Fatalf("after one run: records %v, saves %d", recs, e.storage.savesOf(name))
	}
	// A retry of a finished job does nothing.
	if err := thumbnails.Generate(ctx, e.db, job); err != nil {
		t.Fatal(err)
	}
	if n := e.storage.savesOf(name); n != 1 {
		t.Errorf("a retry of a done job saved the file again (%d saves)", n)
	}
	// A worker that crashed after writing the file but before recording it:
	// the retry writes the same name and one record.
	if err := meta.DeleteSize(ctx, job.Source, "medium"); err != nil {
		t.Fatal(err)
	}
	if err := thumbnails.Generate(ctx, e.db, job); err != nil {
		t.Fatal(err)
	}
	recs, _ = meta.Thumbnails(ctx, job.Source)
	if recs["medium"].Name != name || e.storage.savesOf(name) != 2 || len(e.storage.saves) != 3 {
		t.Errorf("retry after a crash: records %v, saves %v; want the same name rewritten", recs, e.storage.saves)
	}
	var n int64
	e.db.Table("thumbnails_thumbnails").Where("source = ?", job.Source).Count(&n)
	if n != 2 {
		t.Errorf("%d metadata rows, want 2 (small, medium)", n)
	}
	// A size that is not configured cannot be fixed by a retry.
	bad := job
	bad.Size = "huge"
	if err := thumbnails.Generate(ctx, e.db, bad); !errors.Is(err, thumbnails.ErrUnknownSize) {
		t.Errorf("unknown size: %v, want ErrUnknownSize", err)
	}
}

func TestJobsAreUnique(t *testing.T) {
	e := setup(t, thumbnails.Config{})
	ctx := context.Background()
	enq := riverjobs.NewEnqueuer(e.client, &river.InsertOpts{Queue: "images"})
	job := thumbnails.Job{Source: "foods/a.jpg", Size: "medium", Table: "foods", Column: "image"}
	for range 3 {
		if err := enq.Enqueue(ctx, nil, []thumbnails.Job{job}); err != nil {
			t.Fatal(err)
		}
	}
	var queues []string
	if err := e.db.Raw("SELECT queue FROM river_job WHERE kind = ?", riverjobs.Kind).Scan(&queues).Error; err != nil {
		t.Fatal(err)
	}
	if len(queues) != 1 || queues[0] != "images" {
		t.Fatalf("jobs after 3 inserts of one: queues %v, want one in images", queues)
	}
	// One batch listing a job twice (one INSERT cannot touch a row twice).
	other := job
	other.Source = "foods/b.jpg"
	if err := enq.Enqueue(ctx, nil, []thumbnails.Job{other, other, job}); err != nil {
		t.Fatalf("a batch with a job twice: %v", err)
	}
	var n int64
	if err := e.db.Raw("SELECT count(*) FROM river_job WHERE kind = ?", riverjobs.Kind).Scan(&n).Error; err != nil || n != 2 {
		t.Fatalf("%d jobs, %v; want 2", n, err)
	}
}

func TestCancelsUnknownSize(t *testing.T) {
	e := setup(t, thumbnails.Config{})
	ctx := context.Background()
	if err := riverjobs.NewEnqueuer(e.client, nil).Enqueue(ctx, nil, []thumbnails.Job{{Source: "foods/a.jpg", Size: "gone", Table: "foods", Column: "image"}}); err != nil {
		t.Fatal(err)
	}
	_, events := e.startWorkers(t, e.worker(t, thumbnails.Config{}), 1)
	ev := waitJobs(t, events, 1, 30*time.Second)[0]
	if ev.Kind != river.EventKindJobCancelled {
		t.Fatalf("a job for a size that is not configured: %s, want cancelled", ev.Kind)
	}
}

func TestRefusesSQLite(t *testing.T) {
	db := testdb.SQLite(t, "")
	err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: testSizes(""), Enqueuer: riverjobs.NewEnqueuer(nil, nil)}))
	if !errors.Is(err, riverjobs.ErrNotPostgres) || !errors.Is(err, thumbnails.ErrInvalidConfig) {
		t.Fatalf("db.Use on SQLite = %v, want ErrNotPostgres and ErrInvalidConfig", err)
	}
	if err := riverjobs.Migrate(context.Background(), db); !errors.Is(err, riverjobs.ErrNotPostgres) {
		t.Fatalf("Migrate on SQLite = %v", err)
	}
}

// TestRefusesNoClient registers the plugin with an Enqueuer without a River
// client: db.Use fails, where the first save would have panicked.
func TestRefusesNoClient(t *testing.T) {
	for name, q := range map[string]*riverjobs.Enqueuer{"no client": riverjobs.NewEnqueuer(nil, nil), "nil": nil} {
		db := testdb.Postgres(t)
		err := db.Use(thumbnails.Plugin(thumbnails.Config{Sizes: testSizes(""), Enqueuer: q}))
		if !errors.Is(err, thumbnails.ErrInvalidConfig) || !strings.Contains(err.Error(), "River client") {
			t.Errorf("%s: db.Use = %v, want ErrInvalidConfig naming the missing client", name, err)
		}
	}
}

// TestWorkerDiedMidJob plays a worker that took a job, wrote half of the
// thumbnail's file and died: River's rescuer makes the job available again,
// another worker runs it, and the file is whole, recorded once.
func TestWorkerDiedMidJob(t *testing.T) {
	e := setup(t, thumbnails.Config{})
	ctx := context.Background()
	food := newFood(t, "pizza")
	if err := e.db.Create(&food).Error; err != nil {
		t.Fatal(err)
	}
	src := food.Image.Name()
	half := "thumbnails/" + src[:len(src)-len(".jpg")] + "_medium.jpg"
	if _, err := e.storage.Storage.Save(ctx, half, bytes.NewReader(photo(t, "pizza-600x400.jpg")[:5000])); err != nil {
		t.Fatal(err)
	}
	err := e.db.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '2 hours',
		attempted_by = '{dead-worker}' WHERE kind = ?`, riverjobs.Kind).Error
	if err != nil {
		t.Fatal(err)
	}

	db := e.worker(t, thumbnails.Config{})
	sqlDB, _ := db.DB()
	workers := river.NewWorkers()
	river.AddWorker(workers, riverjobs.NewWorker(db))
	client, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers:              workers,
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: time.Hour,
		FetchPollInterval:    20 * time.Millisecond,
		FetchCooldown:        5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	start := time.Now()
	waitJobs(t, events, 1, 2*time.Minute)
	t.Logf("rescued and run %s after the worker started", time.Since(start).Round(time.Millisecond))

	th, err := food.Image.Thumbnail(ctx, "medium")
	if err != nil {
		t.Fatal(err)
	}
	if th.Name != half {
		t.Fatalf("medium is %q, want %q", th.Name, half)
	}
	b, err := os.ReadFile(filepath.Join(e.root, half))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 400 || img.Bounds().Dy() != 267 {
		t.Fatalf("the rescued job left %d bytes that decode as %v, %v", len(b), img, err)
	}
}
