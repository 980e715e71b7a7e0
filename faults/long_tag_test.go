//go:build faults

package faults

// longTag: built with -tags=faults, the suite runs its long version.
const longTag = true
