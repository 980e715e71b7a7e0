//go:build !linux

package plan_test

// threadCPU is not measured here: see cputime_linux_test.go.
func threadCPU() (int64, bool) { return 0, false }
