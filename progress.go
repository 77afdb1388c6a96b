package thumbnails

// Counts is what a bulk operation did.
type Counts struct {
	Done    int // rows (or sources, or Prune's items) handled
	Skipped int // rows with nothing to do
	Failed  int // rows that failed; each was reported through Progress
	// Last is the primary key up to which every row was handled, in key
	// order: pass it as the resume point (RegenerateOptions.After) of a run
	// that was interrupted. Nil when no row was handled. Of a model whose
	// key is a number or a string, it has the type of the key field (a
	// uint for gorm.Model's ID); of a Table, or a key of another kind (one
	// that scans itself), the type the driver reads (int64, string).
	Last any
}

// Progress reports one handled row (or source, or item of Prune) of a bulk
// operation.
type Progress struct {
	Counts            // so far, this row included
	Total      int    // rows to go through, when known, else 0; counted as the run starts, so rows inserted meanwhile, which it goes through too, may take the counts past it
	PrimaryKey any    // the row's primary key, typed as Counts.Last (nil for MigrateMetadata and Prune)
	Source     string // the row's source (for Prune, the item's name)
	Err        error  // why the row failed, when it did
}

// Option configures DeleteSize and MigrateMetadata.
type Option func(*options)

type options struct {
	progress func(Progress)
	dryRun   bool
}

// WithProgress calls fn after each row (or source).
func WithProgress(fn func(Progress)) Option { return func(o *options) { o.progress = fn } }

// WithDryRun reports what would be done and changes nothing.
func WithDryRun() Option { return func(o *options) { o.dryRun = true } }

func collect(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.progress == nil {
		o.progress = func(Progress) {}
	}
	return o
}
