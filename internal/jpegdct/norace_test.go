//go:build !race

package jpegdct

// raceEnabled is true when the tests run with the race detector.
const raceEnabled = false
