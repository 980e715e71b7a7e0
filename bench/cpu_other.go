//go:build !linux

package bench

import "time"

// ThreadCPU returns false: the calling thread's CPU time is read on Linux
// only.
func ThreadCPU() (time.Duration, bool) { return 0, false }

// ProcessCPU returns false: the process's CPU time is read on Linux only.
func ProcessCPU() (time.Duration, bool) { return 0, false }
