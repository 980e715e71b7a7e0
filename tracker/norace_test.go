//go:build !race

package tracker_test

// raceEnabled: the race detector allocates, so allocation counts are off.
const raceEnabled = false
