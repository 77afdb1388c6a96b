package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gorm-thumbnails/thumbnails"
)

// Without a terminal, a progress line is printed after the first row, then
// every lineRows rows or lineEvery, whichever comes first.
const (
	lineRows  = 100
	lineEvery = 2 * time.Second
)

// reporter shows the progress of a bulk operation on stderr: a bar when
// stderr is a terminal, otherwise plain lines; failed rows are printed as
// they happen in both cases. Its update method is the operation's Progress
// callback, which the library calls one row at a time.
//
// It also keeps the resume point. The library runs the rows in progress
// when ctx is cancelled with that cancelled context, so they fail, are
// counted as failed and Counts.Last moves past them: a run resumed from
// that Last would never do them. A row that fails once ctx is done is
// therefore counted as interrupted rather than failed, is not printed, and
// the resume point stays where it was before the first of them (the few
// rows that succeeded after it are done again on resume).
type reporter struct {
	verb  string // "regenerate": the command, at the start of each line
	unit  string // "rows", or "sources"
	w     io.Writer
	ctx   context.Context
	tty   bool
	bar   *progressbar.ProgressBar
	start time.Time

	interrupted int  // rows that failed after ctx was done
	resume      any  // Counts.Last before the first of them
	frozen      bool // resume no longer moves

	lastLine    time.Time
	linesAtRows int
	failed      int // failures shown on the bar's description

	// errorNamesItem: the operation's errors name their item (prune's
	// files, sources and records): a failure line starts with verb
	errorNamesItem bool
}

// newReporter returns a reporter of the operation running under ctx,
// writing to w, with a bar when w is a terminal.
func newReporter(ctx context.Context, verb, unit string, w io.Writer) *reporter {
	f, ok := w.(*os.File)
	return &reporter{verb: verb, unit: unit, w: w, ctx: ctx, tty: ok && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

// update reports one handled row.
func (r *reporter) update(p thumbnails.Progress) {
	if p.Err != nil && r.ctx.Err() != nil {
		r.interrupted++
		r.frozen = true
		p.Err = nil
	}
	if !r.frozen {
		r.resume = p.Last
	}
	p.Failed -= r.interrupted
	handled := p.Done + p.Skipped + p.Failed
	if p.Err != nil {
		r.clearBar()
		fmt.Fprintf(r.w, "%s: %s\n", r.rowName(p), oneLine(p.Err))
	}
	if r.tty {
		r.updateBar(p, handled)
		return
	}
	now := time.Now()
	if r.lastLine.IsZero() || handled-r.linesAtRows >= lineRows || now.Sub(r.lastLine) >= lineEvery {
		r.lastLine, r.linesAtRows = now, handled
		fmt.Fprintf(r.w, "%s: %s (%d done, %d skipped, %d failed)\n", r.verb, r.position(p, handled), p.Done, p.Skipped, p.Failed)
	}
}

// rowName names the row of p in a failure line.
func (r *reporter) rowName(p thumbnails.Progress) string {
	if r.errorNamesItem {
		return r.verb
	}
	if p.PrimaryKey != nil {
		return fmt.Sprintf("row %v", p.PrimaryKey)
	}
	return fmt.Sprintf("source %s", p.Source)
}

// position is "300/1000 rows", or "300 sources" when the total is unknown.
// Rows inserted during the run, which it goes through too, may take the
// count past the total, counted as the run began: the total grows with it.
func (r *reporter) position(p thumbnails.Progress, handled int) string {
	if p.Total > 0 {
		return fmt.Sprintf("%d/%d %s", handled, max(p.Total, handled), r.unit)
	}
	return plural(handled, strings.TrimSuffix(r.unit, "s"))
}

func (r *reporter) updateBar(p thumbnails.Progress, handled int) {
	if r.bar == nil {
		total := p.Total
		if total <= 0 {
			total = -1 // a spinner
		}
		r.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(r.w),
			progressbar.OptionSetDescription(r.verb),
			progressbar.OptionSetItsString(r.unit),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	}
	if p.Failed != r.failed {
		r.failed = p.Failed
		r.bar.Describe(fmt.Sprintf("%s (%d failed)", r.verb, p.Failed))
	}
	if m := r.bar.GetMax(); m > 0 && handled > m {
		r.bar.ChangeMax(handled) // rows inserted during the run
	}
	_ = r.bar.Set(handled)
}

// clearBar erases the bar so that a line can be printed; the next update
// draws it again.
func (r *reporter) clearBar() {
	if r.bar != nil {
		_ = r.bar.Clear()
	}
}

// finish removes the bar and returns the counts of the operation, without
// the rows that failed because it was interrupted, and the time since the
// reporter was made.
func (r *reporter) finish(c thumbnails.Counts) (thumbnails.Counts, time.Duration) {
	r.clearBar()
	c.Failed -= r.interrupted
	if r.frozen {
		c.Last = r.resume
	}
	return c, time.Since(r.start)
}

// failedAtStart reports whether a run ended with err before it handled
// any row (a table or column that does not exist): a summary of nothing
// would stand beside the error as if the run had done its work, so the
// commands print the error alone.
func failedAtStart(c thumbnails.Counts, err error) bool {
	return err != nil && c.Done == 0 && c.Skipped == 0 && c.Failed == 0
}

// summary is "N skipped, N failed in 4.2s (236 rows/s)", with the rows
// interrupted in progress when there are some; skipped names the skipped
// rows ("skipped", "without it"), or is empty to leave them out.
func (r *reporter) summary(c thumbnails.Counts, elapsed time.Duration, skipped string) string {
	s := fmt.Sprintf("%d failed", c.Failed)
	if skipped != "" {
		s = fmt.Sprintf("%d %s, %s", c.Skipped, skipped, s)
	}
	if r.interrupted > 0 {
		s += fmt.Sprintf(", %d interrupted", r.interrupted)
	}
	return s + " in " + rate(c.Done+c.Skipped+c.Failed+r.interrupted, elapsed, r.unit)
}

// rate formats n items in d as "4.2s (236 rows/s)".
func rate(n int, d time.Duration, unit string) string {
	perSecond := 0.0
	if d > 0 {
		perSecond = float64(n) / d.Seconds()
	}
	return fmt.Sprintf("%.1fs (%.0f %s/s)", d.Seconds(), perSecond, unit)
}

// plural is "1 row" or "3 rows".
func plural(n int, singular string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, singular)
	}
	return fmt.Sprintf("%d %ss", n, singular)
}
