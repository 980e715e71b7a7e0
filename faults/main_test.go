package faults

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The kill -9 scenario re-executes this test binary as the process it
	// kills (kill_test.go).
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	goleak.VerifyTestMain(m)
}

// longEnv, set to "long", runs the long version of the suite (as the build
// tag "faults" does).
const longEnv = "MULTITRACK_FAULTS"

// scale sizes a run of the suite.
type scale struct {
	goroutines int           // capturing at once
	rate       int           // events a second, per goroutine
	healthy    time.Duration // load before a fault
	outage     time.Duration // how long a fault lasts: longer than the PostHog sink's retries
	recovered  time.Duration // load after it
	closeIn    time.Duration // Close's deadline after a recovery
	burst      int           // events in the burst against a stalled sink
	kills      int           // kill -9 rounds
	diskKB     int           // the tmpfs the file sink fills
}

var (
	bounded = scale{
		goroutines: 4, rate: 600,
		healthy: 200 * time.Millisecond, outage: time.Second, recovered: 400 * time.Millisecond,
		closeIn: 10 * time.Second, burst: 100_000, kills: 2, diskKB: 512,
	}
	long = scale{
		goroutines: 8, rate: 1000,
		healthy: 2 * time.Second, outage: 10 * time.Second, recovered: 3 * time.Second,
		closeIn: 30 * time.Second, burst: 5_000_000, kills: 10, diskKB: 16 << 10,
	}
)

// size is the scale of this run: long with -tags=faults or
// MULTITRACK_FAULTS=long, bounded otherwise.
func size() scale {
	if longTag || os.Getenv(longEnv) == "long" {
		return long
	}
	return bounded
}

// isLong says whether this is the long run.
func isLong() bool { return size() == long }
