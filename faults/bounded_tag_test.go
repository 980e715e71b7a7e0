//go:build !faults

package faults

// longTag: without -tags=faults, the suite runs its bounded version unless
// MULTITRACK_FAULTS=long.
const longTag = false
