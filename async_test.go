package thumbnails_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disintegration/gift"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/processors"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

// tableEnqueuer queues jobs as rows of its own table, in the transaction it
// is given: the contract of thumbnails.Enqueuer without a job queue.
type tableEnqueuer struct {
	insert string // the INSERT, in the dialect's placeholders
	noTx   int    // calls without a transaction
}

func (q *tableEnqueuer) Enqueue(ctx context.Context, tx *sql.Tx, jobs []thumbnails.Job) error {
	if tx == nil {
		q.noTx++
		return nil
	}
	for _, j := range jobs {
		_, err := tx.ExecContext(ctx, q.insert, j.Source, j.Size, j.Table, j.Column)
		if err != nil {
			return err
		}
	}
	return nil
}

// Poster has an eager size and an async one.
type Poster struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:small,later"`
}

func asyncSizes() sizes.Sizes {
	return sizes.Sizes{
		"small": {Processors: []gift.Filter{processors.Resize(processors.Px(100), processors.Px(100), processors.Fill)}},
		"later": {Processors: []gift.Filter{processors.Resize(processors.Px(300), processors.Px(300), processors.Fit)}, Async: true},
	}
}

func TestAsyncSizesAreQueuedInTheTransaction(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		if err := db.Exec("CREATE TABLE test_jobs (source TEXT, size TEXT, tbl TEXT, col TEXT)").Error; err != nil {
			t.Fatal(err)
		}
		q := &tableEnqueuer{insert: "INSERT INTO test_jobs (source, size, tbl, col) VALUES (?, ?, ?, ?)"}
		if db.Dialector.Name() == "postgres" {
			q.insert = "INSERT INTO test_jobs (source, size, tbl, col) VALUES ($1, $2, $3, $4)"
		}
		e := setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q}, &Poster{})
		ctx := context.Background()
		jobs := func() []thumbnails.Job {
			var out []thumbnails.Job
			if err := db.Raw("SELECT source, size, tbl AS \"table\", col AS \"column\" FROM test_jobs").Scan(&out).Error; err != nil {
				t.Fatal(err)
			}
			return out
		}

		// Rolled back: no job.
		rolled := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&rolled).Error; err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) || len(jobs()) != 0 {
			t.Fatalf("rolled back: %v, jobs %v", err, jobs())
		}

		// Committed: one job for the async size only, and the save made
		// only the eager one.
		p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		want := thumbnails.Job{Source: p.Image.Name(), Size: "later", Table: "posters", Column: "image"}
		if got := jobs(); len(got) != 1 || got[0] != want {
			t.Fatalf("jobs %+v, want %+v", got, want)
		}
		all, err := p.Image.Thumbnails(ctx)
		if err != nil || len(all) != 1 || all["small"].Width != 100 {
			t.Fatalf("after the save: %v, %v; want small only", all, err)
		}
		if n := len(e.files(t)); n != 2 {
			t.Fatalf("%d files after the save, want the source and small", n)
		}

		// The job's work, as a worker would do it.
		if err := thumbnails.Generate(ctx, db, want); err != nil {
			t.Fatal(err)
		}
		th, err := p.Image.Thumbnail(ctx, "later")
		if err != nil || th.Width != 300 || th.Height != 200 || !e.exists(t, th.Name) {
			t.Fatalf("later after Generate: %+v, %v", th, err)
		}

		// Outside any transaction the enqueuer gets no tx.
		if err := db.Session(&gorm.Session{SkipDefaultTransaction: true}).Create(&Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}).Error; err != nil {
			t.Fatal(err)
		}
		if q.noTx != 1 {
			t.Errorf("Enqueue without a transaction called %d times with none, want 1", q.noTx)
		}
	})
}

func TestGenerateWithoutPlugin(t *testing.T) {
	if err := thumbnails.Generate(context.Background(), openSQLite(t), thumbnails.Job{Source: "a.jpg", Size: "small", Table: "t", Column: "c"}); !errors.Is(err, thumbnails.ErrNotRegistered) {
		t.Fatalf("Generate on a db without the plugin = %v", err)
	}
}

// TestGenerateMalformedJob: a job without a source, table or column fails
// with ErrInvalidConfig (a worker cancels it: no retry can fix it), and an
// unconfigured size with ErrUnknownSize.
func TestGenerateMalformedJob(t *testing.T) {
	db := openSQLite(t)
	setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: &memoryEnqueuer{}}, &Poster{})
	ctx := context.Background()
	full := thumbnails.Job{Source: "posters/a.jpg", Size: "later", Table: "posters", Column: "image"}
	for _, tc := range []struct {
		name string
		edit func(*thumbnails.Job)
		want error
	}{
		{"no source", func(j *thumbnails.Job) { j.Source = "" }, thumbnails.ErrInvalidConfig},
		{"no table", func(j *thumbnails.Job) { j.Table = "" }, thumbnails.ErrInvalidConfig},
		{"no column", func(j *thumbnails.Job) { j.Column = "" }, thumbnails.ErrInvalidConfig},
		{"unknown size", func(j *thumbnails.Job) { j.Size = "huge" }, thumbnails.ErrUnknownSize},
	} {
		job := full
		tc.edit(&job)
		if err := thumbnails.Generate(ctx, db, job); !errors.Is(err, tc.want) {
			t.Errorf("%s: Generate = %v; want %v", tc.name, err, tc.want)
		}
	}
	// The well-formed job of a source no row holds is a no-op.
	if err := thumbnails.Generate(ctx, db, full); err != nil {
		t.Errorf("Generate for a source no row holds = %v; want nil", err)
	}
}

// TestPreloadPendingAsync checks that a page of rows whose async size is
// still pending answers its fallback from the preloaded records: one
// metadata round trip for the page, none per row.
func TestPreloadPendingAsync(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		set := asyncSizes()
		later := set["later"]
		later.FallbackImageURL = "/static/soon.png"
		set["later"] = later
		setupSizesConfig(t, db, thumbnails.Config{Sizes: set, Enqueuer: enqueuerFunc(func([]thumbnails.Job) {})}, &Poster{})
		ctx := context.Background()
		for range 5 {
			if err := db.Create(&Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}).Error; err != nil {
				t.Fatal(err)
			}
		}
		trips := metadataRoundTrips(t, db)
		var page []Poster
		if err := db.Scopes(thumbnails.Preload()).Find(&page).Error; err != nil {
			t.Fatal(err)
		}
		for i := range page {
			th, err := page[i].Image.Thumbnail(ctx, "later")
			if err != nil || th.URL != "/static/soon.png" || th.Name != "" {
				t.Fatalf("pending later = %+v, %v; want the fallback", th, err)
			}
			if th, err := page[i].Image.Thumbnail(ctx, "small"); err != nil || th.Width != 100 {
				t.Fatalf("small = %+v, %v", th, err)
			}
		}
		if n := trips(); n != 1 {
			t.Errorf("%d metadata round trips for a preloaded page of %d rows, want 1", n, len(page))
		}
	})
}

// memoryEnqueuer keeps the jobs it is given.
type memoryEnqueuer struct {
	mu   sync.Mutex
	jobs []thumbnails.Job
}

func (q *memoryEnqueuer) Enqueue(_ context.Context, _ *sql.Tx, jobs []thumbnails.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, jobs...)
	return nil
}

// holdingStorage holds each Save of a name holding hold until release is
// closed, telling entered when it starts waiting.
type holdingStorage struct {
	backends.Storage
	hold    string
	entered chan struct{}
	release chan struct{}
}

func (s *holdingStorage) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if strings.Contains(name, s.hold) {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Storage.Save(ctx, name, r)
}

// TestGenerateRacingADelete deletes a row while its async size is being
// made, after the check the job makes first: what the job writes once the
// delete's cleanup has run is nobody's, and the job removes it. A saved
// row's pending size, asked again after its job has run, is found.
func TestGenerateRacingADelete(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		q := &memoryEnqueuer{}
		base, raw := newStorage(t, db)
		st := &holdingStorage{Storage: base, hold: "_later", entered: make(chan struct{}), release: make(chan struct{})}
		cfg := thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, Storage: st, OnPending: thumbnails.PendingError}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		usePlugin(t, db, cfg, &Poster{})
		e := &env{db: db, raw: raw}

		p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := p.Image.Thumbnail(ctx, "later"); !errors.Is(err, thumbnails.ErrPending) {
			t.Fatalf("before its job: %v, want ErrPending", err)
		}
		job := q.jobs[0]
		done := make(chan error, 1)
		go func() { done <- thumbnails.Generate(ctx, db, job) }()
		<-st.entered // the job checked the row, and is writing
		if err := db.Delete(&p).Error; err != nil {
			t.Fatal(err)
		}
		close(st.release)
		if err := <-done; err != nil {
			t.Fatalf("Generate: %v", err)
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files after the delete and the job: %v", files)
		}
		if recs, err := metadataOf(db).Thumbnails(ctx, job.Source); err != nil || len(recs) != 0 {
			t.Errorf("records after the delete and the job: %v, %v", recs, err)
		}

		// a saved row asked before its job ran, and after
		kept := Poster{Image: field.NewImage("k.jpg", reader(photo(t, pastaJPG)))}
		if err := db.Create(&kept).Error; err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := kept.Image.Thumbnail(ctx, "later"); !errors.Is(err, thumbnails.ErrPending) {
				t.Fatalf("before its job: %v, want ErrPending", err)
			}
		}
		st.hold = "\x00" // no more holding
		if err := thumbnails.Generate(ctx, db, q.jobs[len(q.jobs)-1]); err != nil {
			t.Fatal(err)
		}
		if th, err := kept.Image.Thumbnail(ctx, "later"); err != nil || th.Width != 300 {
			t.Errorf("after its job: %+v, %v", th, err)
		}
	})
}

// Hoarding holds the same sizes as Poster, in another table.
type Hoarding struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:small,later"`
}

// TestGenerateForACopiedSource: a poster's image copied to a hoarding,
// then the poster deleted before its job runs. The job (one a source and
// size, queued for the poster) makes the size for the hoarding, which
// still holds the source; it used to find the poster gone and do nothing,
// and the hoarding's size was pending for ever.
func TestGenerateForACopiedSource(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		q := &memoryEnqueuer{}
		cfg := thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, OnPending: thumbnails.PendingError}
		setupSizesConfig(t, db, cfg, &Poster{}, &Hoarding{})
		p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		var loaded Poster
		if err := db.First(&loaded, p.ID).Error; err != nil {
			t.Fatal(err)
		}
		b := Hoarding{Image: loaded.Image}
		if err := db.Create(&b).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Delete(&p).Error; err != nil {
			t.Fatal(err)
		}
		// The poster's, and the hoarding's (a copy queues the jobs of its
		// column's async sizes, which River's uniqueness by source and
		// size makes one); the poster's job is the one run here.
		if len(q.jobs) != 2 || q.jobs[0].Table != "posters" || q.jobs[1].Table != "hoardings" {
			t.Fatalf("jobs %+v, want the poster's and the hoarding's", q.jobs)
		}
		if err := thumbnails.Generate(ctx, db, q.jobs[0]); err != nil {
			t.Fatal(err)
		}
		var got Hoarding
		if err := db.First(&got, b.ID).Error; err != nil {
			t.Fatal(err)
		}
		if th, err := got.Image.Thumbnail(ctx, "later"); err != nil || th.Width != 300 {
			t.Errorf("the hoarding's later after the job: %+v, %v", th, err)
		}
	})
}

// TestRegenerateMakesPendingAsyncSizes: Regenerate with no Sizes makes a
// column's async sizes too, in the call, and queues nothing: a row whose
// job never ran has its size afterwards.
func TestRegenerateMakesPendingAsyncSizes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		q := &memoryEnqueuer{}
		setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, OnPending: thumbnails.PendingError}, &Poster{})
		ctx := context.Background()
		row := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		queued := len(q.jobs)
		var got Poster
		if err := db.First(&got, row.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := got.Image.Thumbnail(ctx, "later"); !errors.Is(err, thumbnails.ErrPending) {
			t.Fatalf("later before Regenerate: %v; want ErrPending", err)
		}
		counts, err := thumbnails.Regenerate(ctx, db, &Poster{}, thumbnails.RegenerateOptions{})
		if err != nil || counts.Done != 1 || counts.Failed != 0 {
			t.Fatalf("Regenerate: %+v, %v", counts, err)
		}
		if err := db.First(&got, row.ID).Error; err != nil {
			t.Fatal(err)
		}
		if th, err := got.Image.Thumbnail(ctx, "later"); err != nil || th.Width != 300 {
			t.Errorf("later after Regenerate: %+v, %v; want it made (300 wide)", th, err)
		}
		if len(q.jobs) != queued {
			t.Errorf("Regenerate queued %d jobs; want none", len(q.jobs)-queued)
		}
	})
}

// Signboard has an eager size, two async ones (with and without a
// fallback) and a lazy one.
type Signboard struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:small,later,soon,big"`
}

// TestSavedRowAfterASizeOnDemand: a row just saved, whose async or lazy
// size is made on its first access, still knows its other thumbnails, and
// still sees the job's work for its other pending async sizes.
func TestSavedRowAfterASizeOnDemand(t *testing.T) {
	for _, first := range []string{"later", "big"} { // async without a fallback; lazy
		t.Run(first, func(t *testing.T) {
			db := openSQLite(t)
			set := asyncSizes()
			soon := set["later"]
			soon.FallbackImageURL = "/static/soon.png"
			set["soon"] = soon
			big := set["later"]
			big.Async, big.Lazy = false, true
			set["big"] = big
			q := &memoryEnqueuer{}
			e := setupSizesConfig(t, db, thumbnails.Config{Sizes: set, Enqueuer: q}, &Signboard{})
			ctx := context.Background()
			b := Signboard{Image: field.NewImage("b.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&b).Error; err != nil {
				t.Fatal(err)
			}
			if th, err := b.Image.Thumbnail(ctx, first); err != nil || th.Name == "" || !e.exists(t, th.Name) {
				t.Fatalf("%s on demand: %+v, %v", first, th, err)
			}
			all, err := b.Image.Thumbnails(ctx)
			if err != nil || all["small"].Name == "" || all[first].Name == "" {
				t.Fatalf("Thumbnails after %s was made = %v, %v; want small and %s", first, all, err, first)
			}
			var ran bool
			for _, j := range q.jobs {
				if j.Size == "soon" {
					if err := thumbnails.Generate(ctx, db, j); err != nil {
						t.Fatal(err)
					}
					ran = true
				}
			}
			if !ran {
				t.Fatalf("no job for soon among %+v", q.jobs)
			}
			if th, err := b.Image.Thumbnail(ctx, "soon"); err != nil || th.Name == "" || th.URL == "/static/soon.png" {
				t.Errorf("soon after its job ran = %+v, %v; want the thumbnail the job made", th, err)
			}
		})
	}
}

// TestSavedRowListsWhatItsJobMade: Thumbnails of a row just saved lists
// the async size its job made since.
func TestSavedRowListsWhatItsJobMade(t *testing.T) {
	db := openSQLite(t)
	q := &memoryEnqueuer{}
	setupSizesConfig(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q}, &Poster{})
	ctx := context.Background()
	p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	if all, err := p.Image.Thumbnails(ctx); err != nil || len(all) != 1 || all["small"].Name == "" {
		t.Fatalf("Thumbnails before the job = %v, %v; want small alone", all, err)
	}
	if len(q.jobs) != 1 {
		t.Fatalf("jobs %+v, want later's", q.jobs)
	}
	if err := thumbnails.Generate(ctx, db, q.jobs[0]); err != nil {
		t.Fatal(err)
	}
	if all, err := p.Image.Thumbnails(ctx); err != nil || all["later"].Name == "" || all["small"].Name == "" {
		t.Errorf("Thumbnails after the job = %v, %v; want small and later", all, err)
	}
}

// TestGenerateSizeNotInTheTag: a job for a size the configuration has but
// its column does not (taken out of the tag since the job was queued)
// fails with ErrUnknownSize and makes nothing.
func TestGenerateSizeNotInTheTag(t *testing.T) {
	db := openSQLite(t)
	set := asyncSizes()
	set["extra"] = set["later"]
	q := &memoryEnqueuer{}
	e := setupSizesConfig(t, db, thumbnails.Config{Sizes: set, Enqueuer: q}, &Poster{})
	p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	before := e.files(t)
	job := thumbnails.Job{Source: p.Image.Name(), Size: "extra", Table: "posters", Column: "image"}
	if err := thumbnails.Generate(context.Background(), db, job); !errors.Is(err, thumbnails.ErrUnknownSize) {
		t.Errorf("job for a size the column lacks: %v, want ErrUnknownSize", err)
	}
	if after := e.files(t); len(after) != len(before) {
		t.Errorf("files %v, want %v: nothing made", after, before)
	}
	job.Size = "later" // the column's own async size is still made
	if err := thumbnails.Generate(context.Background(), db, job); err != nil {
		t.Fatal(err)
	}
	if after := e.files(t); len(after) != len(before)+1 {
		t.Errorf("files %v after later's job, want one more than %v", after, before)
	}
}

// Placard has two async sizes, whose jobs run side by side.
type Placard struct {
	ID    uint
	Image field.Image `thumbnails:"sizes:later,later2"`
}

// meetingMetadata is a metadata store whose Puts of the sizes later and
// later2 each return once both have been recorded: two jobs' records are
// both in before either job looks at what the metadata holds.
type meetingMetadata struct {
	backends.Metadata
	both *sync.WaitGroup
}

// WithDB keeps the store bound to the statement's transaction, as the
// database store is.
func (m *meetingMetadata) WithDB(db *gorm.DB) backends.Metadata {
	return &meetingMetadata{Metadata: m.Metadata.(backends.TxMetadata).WithDB(db), both: m.both}
}

func (m *meetingMetadata) Put(ctx context.Context, source string, thumbs ...backends.Thumbnail) error {
	err := m.Metadata.Put(ctx, source, thumbs...)
	if len(thumbs) == 1 && strings.HasPrefix(thumbs[0].Size, "later") {
		m.both.Done()
		m.both.Wait()
	}
	return err
}

// TestTwoJobsRacingADelete deletes a row while the jobs of its two async
// sizes are writing; both record their size after the delete's cleanup
// has run. Each then finds the other's record beside its own: what they
// wrote is nobody's all the same, and nothing of it is left.
func TestTwoJobsRacingADelete(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	q := &memoryEnqueuer{}
	base, raw := newStorage(t, db)
	st := &holdingStorage{Storage: base, hold: "_later", entered: make(chan struct{}), release: make(chan struct{})}
	set := asyncSizes()
	set["later2"] = set["later"]
	meta := &meetingMetadata{Metadata: backends.NewDatabaseMetadata(db), both: &sync.WaitGroup{}}
	meta.both.Add(2)
	usePlugin(t, db, thumbnails.Config{Sizes: set, Enqueuer: q, Storage: st, Metadata: meta}, &Placard{})
	e := &env{db: db, raw: raw}

	b := Placard{Image: field.NewImage("b.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Create(&b).Error; err != nil {
		t.Fatal(err)
	}
	if len(q.jobs) != 2 {
		t.Fatalf("jobs %+v, want two", q.jobs)
	}
	done := make(chan error, 2)
	for _, job := range q.jobs {
		go func() { done <- thumbnails.Generate(ctx, db, job) }()
	}
	<-st.entered // both jobs checked the row, and are writing
	<-st.entered
	if err := db.Delete(&b).Error; err != nil {
		t.Fatal(err)
	}
	close(st.release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("Generate: %v", err)
		}
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files after the delete and the jobs: %v", files)
	}
	if recs, err := meta.Thumbnails(ctx, b.Image.Name()); err != nil || len(recs) != 0 {
		t.Errorf("records after the delete and the jobs: %v, %v", recs, err)
	}
}

// TestGenerateForARowOfATableTable saves a row through db.Table into a
// table other than its model's, which does not exist: its async focal
// size's job names that table, finds the row there, and crops around the
// row's point. It used to name the model's table, and failed at every try.
func TestGenerateForARowOfATableTable(t *testing.T) {
	db := openSQLite(t)
	q := &memoryEnqueuer{}
	e := setupWith(t, db, func(c *thumbnails.Config) {
		c.Sizes = focusSizes()
		later := c.Sizes["later"]
		later.Lazy, later.Async = false, true
		c.Sizes["later"] = later
		c.Enqueuer = q
	}, &Portrait{})
	if err := db.Table("portraits_2024").AutoMigrate(&Portrait{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrator().DropTable("portraits"); err != nil {
		t.Fatal(err)
	}
	p := Portrait{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG))), Focus: field.NewFocus(0.1, 0.5)}
	if err := db.Table("portraits_2024").Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	if len(q.jobs) != 1 || q.jobs[0].Table != "portraits_2024" {
		t.Fatalf("jobs queued: %+v, want one for portraits_2024", q.jobs)
	}
	ctx := context.Background()
	if err := thumbnails.Generate(ctx, db, q.jobs[0]); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	var loaded Portrait
	if err := db.Table("portraits_2024").First(&loaded, p.ID).Error; err != nil {
		t.Fatal(err)
	}
	th, err := loaded.Image.Thumbnail(ctx, "later")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.decodeStored(t, th.Name); !sameImage(got, wantFocal(t, 0.1, 0.5)) {
		t.Error("the job's crop is not around the row's point")
	}
}

// holdingOpens holds the first Open until release is closed, telling
// entered when it starts waiting.
type holdingOpens struct {
	backends.Storage
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *holdingOpens) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	s.once.Do(func() {
		s.entered <- struct{}{}
		<-s.release
	})
	return s.Storage.Open(ctx, name)
}

// TestGenerateAfterTheSourceWentAway deletes a row while its job is about
// to read the source: the job finds the source gone with its row, and ends
// as a job with nothing to do, instead of failing a try that a queue
// retries, or discards at its last.
func TestGenerateAfterTheSourceWentAway(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		q := &memoryEnqueuer{}
		base, raw := newStorage(t, db)
		st := &holdingOpens{Storage: base, entered: make(chan struct{}), release: make(chan struct{})}
		cfg := thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, Storage: st}
		if m, ok := redisMetadata.Load(db); ok {
			cfg.Metadata = m.(backends.Metadata)
		}
		usePlugin(t, db, cfg, &Poster{})
		e := &env{db: db, raw: raw}
		p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
		if err := db.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- thumbnails.Generate(ctx, db, q.jobs[0]) }()
		<-st.entered // the job checked the row, and opens the source
		if err := db.Delete(&p).Error; err != nil {
			t.Fatal(err)
		}
		close(st.release)
		if err := <-done; err != nil {
			t.Errorf("Generate of a job whose row and source went away: %v, want nil", err)
		}
		if files := e.files(t); len(files) != 0 {
			t.Errorf("files after the delete and the job: %v", files)
		}
	})
}

// afterPut runs after once, after the first Put of a record of size.
type afterPut struct {
	backends.Metadata
	size  string
	once  *sync.Once
	after func()
}

func (m *afterPut) WithDB(db *gorm.DB) backends.Metadata {
	return &afterPut{Metadata: m.Metadata.(backends.TxMetadata).WithDB(db), size: m.size, once: m.once, after: m.after}
}

func (m *afterPut) Put(ctx context.Context, source string, thumbs ...backends.Thumbnail) error {
	err := m.Metadata.Put(ctx, source, thumbs...)
	for _, t := range thumbs {
		if t.Size == m.size {
			m.once.Do(m.after)
		}
	}
	return err
}

// TestGenerateCancelledAfterItsRowWent deletes a row while its job makes
// its size (the delete's clean-up runs before the size is recorded), and
// cancels the job once the size is recorded (a queue's job timeout, a
// worker's shutdown): what the job made is nobody's, and goes, whether the
// try removes it or its retry does.
func TestGenerateCancelledAfterItsRowWent(t *testing.T) {
	db := openSQLite(t)
	q := &memoryEnqueuer{}
	base, raw := newStorage(t, db)
	var p Poster
	st := &hookedSaves{Storage: base, hold: "_later", before: func() {
		if err := db.Session(&gorm.Session{NewDB: true}).Delete(&Poster{}, p.ID).Error; err != nil {
			t.Error(err)
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	meta := &afterPut{Metadata: backends.NewDatabaseMetadata(db), size: "later", once: new(sync.Once), after: cancel}
	usePlugin(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, Storage: st, Metadata: meta}, &Poster{})
	e := &env{db: db, raw: raw}
	p = Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	if err := thumbnails.Generate(ctx, db, q.jobs[0]); err != nil {
		// the queue tries again
		if err := thumbnails.Generate(context.Background(), db, q.jobs[0]); err != nil {
			t.Fatalf("retry: %v", err)
		}
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files after the delete and the job: %v", files)
	}
	if recs, err := metadataOf(db).Thumbnails(context.Background(), p.Image.Name()); err != nil || len(recs) != 0 {
		t.Errorf("records after the delete and the job: %v, %v", recs, err)
	}
}

// hookedSaves runs before, once, ahead of the first Save of a name holding
// hold.
type hookedSaves struct {
	backends.Storage
	hold   string
	once   sync.Once
	before func()
}

func (s *hookedSaves) Save(ctx context.Context, name string, r io.Reader) (string, error) {
	if strings.Contains(name, s.hold) {
		s.once.Do(s.before)
	}
	return s.Storage.Save(ctx, name, r)
}

// notedDeletes is database metadata that tells deleted of each Delete of a
// source's records once armed is set.
type notedDeletes struct {
	backends.Metadata
	armed   *atomic.Bool
	deleted chan string
}

func newNotedDeletes(db *gorm.DB) *notedDeletes {
	return &notedDeletes{Metadata: backends.NewDatabaseMetadata(db), armed: new(atomic.Bool), deleted: make(chan string, 8)}
}

func (m *notedDeletes) WithDB(db *gorm.DB) backends.Metadata {
	return &notedDeletes{Metadata: m.Metadata.(backends.TxMetadata).WithDB(db), armed: m.armed, deleted: m.deleted}
}

func (m *notedDeletes) Delete(ctx context.Context, source string) error {
	err := m.Metadata.Delete(ctx, source)
	if m.armed.Load() {
		m.deleted <- source
	}
	return err
}

// await waits for the Delete of source's records, or fails t after 10 s.
func (m *notedDeletes) await(t *testing.T, source string) {
	t.Helper()
	for {
		select {
		case s := <-m.deleted:
			if s == source {
				return
			}
		case <-time.After(10 * time.Second):
			t.Errorf("what was made of %q, recorded after its row went, was not removed", source)
			return
		}
	}
}

// TestGenerateCancelledWhileItsRowGoes deletes a row while its job writes
// its size, and ends the job's context then (a queue's job timeout, a
// worker's shutdown): the job returns at once, and its retry finds no row
// and does nothing, while the generation goes on and records the size
// afterwards. What it made is nobody's, and goes once it is recorded,
// though no job waits for it any more; it used to stay, with the source's
// record, for a source no row holds and whose file is gone.
func TestGenerateCancelledWhileItsRowGoes(t *testing.T) {
	for _, d := range dialects[:2] { // the database metadata: sqlite, postgres
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			q := &memoryEnqueuer{}
			base, raw := newStorage(t, db)
			meta := newNotedDeletes(db)
			var p Poster
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			release := make(chan struct{})
			st := &hookedSaves{Storage: base, hold: "_later", before: func() {
				if err := db.Session(&gorm.Session{NewDB: true}).Delete(&Poster{}, p.ID).Error; err != nil {
					t.Error(err)
				}
				meta.armed.Store(true) // the delete's clean-up has run
				cancel()
				<-release // a slow write
			}}
			usePlugin(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, Storage: st, Metadata: meta}, &Poster{})
			e := &env{db: db, raw: raw}
			p = Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&p).Error; err != nil {
				t.Fatal(err)
			}
			if err := thumbnails.Generate(ctx, db, q.jobs[0]); !errors.Is(err, context.Canceled) {
				t.Fatalf("Generate, cancelled: %v, want context.Canceled", err)
			}
			// the queue tries again, while the first try's generation runs
			if err := thumbnails.Generate(context.Background(), db, q.jobs[0]); err != nil {
				t.Fatalf("retry: %v", err)
			}
			close(release) // the generation writes and records the size
			meta.await(t, q.jobs[0].Source)
			if files := e.files(t); len(files) != 0 {
				t.Errorf("files after the delete and the job: %v", files)
			}
			if recs, err := meta.Thumbnails(context.Background(), q.jobs[0].Source); err != nil || len(recs) != 0 {
				t.Errorf("records after the delete and the job: %v, %v", recs, err)
			}
			if n := count(t, db, "thumbnails_sources"); n != 0 {
				t.Errorf("%d source record(s) after the delete and the job", n)
			}
		})
	}
}

// TestRetryAfterAFailedRecordOfAGoneRow: a job writes its size's file and
// cannot record it (the metadata is down), so the queue tries it again;
// before it does, the row is deleted (its clean-up goes by the records,
// and the file has none). The retry finds the source gone and removes the
// file, whose name is the source's and the size's alone.
func TestRetryAfterAFailedRecordOfAGoneRow(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	q := &memoryEnqueuer{}
	base, raw := newStorage(t, db)
	fail := new(atomic.Bool)
	meta := failingPuts{backends.NewDatabaseMetadata(db), fail}
	usePlugin(t, db, thumbnails.Config{Sizes: asyncSizes(), Enqueuer: q, Storage: base, Metadata: meta}, &Poster{})
	e := &env{db: db, raw: raw}
	p := Poster{Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
	if err := db.Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	if err := thumbnails.Generate(ctx, db, q.jobs[0]); !errors.Is(err, errPutFailed) {
		t.Fatalf("Generate with the metadata down: %v", err)
	}
	fail.Store(false)
	if err := db.Delete(&p).Error; err != nil {
		t.Fatal(err)
	}
	if err := thumbnails.Generate(ctx, db, q.jobs[0]); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if files := e.files(t); len(files) != 0 {
		t.Errorf("files after the delete and the retry: %v", files)
	}
}
