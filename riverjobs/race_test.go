//go:build race

package riverjobs_test

// raceEnabled is true when the tests run with the race detector, which
// makes image work about ten times slower.
const raceEnabled = true
