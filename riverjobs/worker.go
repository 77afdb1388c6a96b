package riverjobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails"
)

// Worker is the River worker of thumbnails jobs. Register it with
// river.AddWorker on every machine that runs workers; each one needs the
// plugin registered on its *gorm.DB with the same sizes and storage as the
// machines that save rows.
type Worker struct {
	river.WorkerDefaults[Args]
	db *gorm.DB
}

// NewWorker returns the Worker that generates sizes through db, a *gorm.DB
// using the thumbnails plugin.
func NewWorker(db *gorm.DB) *Worker {
	return &Worker{db: db}
}

// Work implements river.Worker. It calls thumbnails.Generate, which does
// nothing for a source no row references any more or a size already made,
// so a job that is retried, or that outlived its row, is harmless. A size
// that is not configured (any more), a job that lacks its source, table or
// column, a source that no longer decodes, or one whose image is over the
// plugin's limits, cancels the job: retrying cannot help. Any other error is returned, and
// River retries the job with its backoff.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	err := thumbnails.Generate(ctx, w.db, thumbnails.Job{
		Source:      job.Args.Source,
		Size:        job.Args.Size,
		Table:       job.Args.Table,
		Column:      job.Args.Column,
		FocusColumn: job.Args.FocusColumn,
	})
	if errors.Is(err, thumbnails.ErrUnknownSize) || errors.Is(err, thumbnails.ErrInvalidConfig) ||
		errors.Is(err, thumbnails.ErrInvalidImage) || errors.Is(err, thumbnails.ErrImageTooLarge) {
		return river.JobCancel(err)
	}
	return err
}
