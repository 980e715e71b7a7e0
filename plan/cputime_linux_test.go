package plan_test

import "syscall"

// threadCPU returns the CPU time the calling thread has used, in
// nanoseconds. A benchmark locked to its thread reports it per operation,
// a figure that, unlike wall time, a busy machine does not inflate much.
func threadCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
