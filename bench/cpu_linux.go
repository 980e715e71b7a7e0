package bench

import (
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPU returns the CPU time the calling OS thread has used (lock the
// goroutine to its thread first), and false where that cannot be read.
// Work elsewhere on a shared machine inflates it far less than wall time.
func ThreadCPU() (time.Duration, bool) { return clock(unix.CLOCK_THREAD_CPUTIME_ID) }

// ProcessCPU returns the CPU time the whole process has used, every thread
// (the tracker's workers, the garbage collector) included, and false where
// that cannot be read.
func ProcessCPU() (time.Duration, bool) { return clock(unix.CLOCK_PROCESS_CPUTIME_ID) }

func clock(id int32) (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
