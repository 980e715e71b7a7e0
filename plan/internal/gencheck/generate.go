package gencheck

// The events of plan/testdata/gen/every.yaml, a plan with every feature
// Generate has, as `multitrack gen` writes them. plan's
// TestGeneratedCodeIsUpToDate keeps events.go equal to what Generate writes
// now, and this package's tests check that the events it builds pass the
// plan.
//
//go:generate go run ../../../cmd/multitrack gen --plan ../../testdata/gen/every.yaml --package gencheck -o events.go
