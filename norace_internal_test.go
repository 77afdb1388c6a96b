//go:build !race

package thumbnails

// RaceEnabled reports, to the tests, whether they run under the race
// detector (see ImageOnly).
const RaceEnabled = false
