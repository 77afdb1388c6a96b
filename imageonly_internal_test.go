package thumbnails

import "testing"

// ImageOnly skips, under the race detector, a test that decodes and
// resizes images in one goroutine and shares nothing: the detector has
// nothing to find there and makes it about 16 times slower. .ci/run runs
// these tests again without it. (Exported for the package's external
// tests; it exists only in the test binary.)
func ImageOnly(t *testing.T) {
	t.Helper()
	if RaceEnabled {
		t.Skip("image work only: run without -race (see .ci/run)")
	}
}
