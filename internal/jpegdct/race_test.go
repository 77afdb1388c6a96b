//go:build race

package jpegdct

// raceEnabled is true when the tests run with the race detector, which
// makes decoding about ten times slower.
const raceEnabled = true
