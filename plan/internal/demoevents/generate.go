package demoevents

// The events of testdata/plans/demo.yaml, the plan of `multitrack demo`, as
// `multitrack gen` writes them. plan's TestGeneratedCodeIsUpToDate keeps
// events.go equal to what Generate writes now, and this package's tests
// check that the events it builds pass the plan.
//
//go:generate go run ../../../cmd/multitrack gen --plan ../../../testdata/plans/demo.yaml --package demoevents -o events.go
