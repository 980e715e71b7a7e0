package noop_test

import (
	"context"
	"fmt"

	"github.com/multitrack/multitrack/sinks/noop"
	"github.com/multitrack/multitrack/tracker"
)

// A noop sink accepts every batch and keeps nothing.
func Example() {
	s := noop.New()
	err := s.Write(context.Background(), []tracker.Event{{Name: "query_initiated"}})
	fmt.Println(err, s.Close(context.Background()))
	// Output: <nil> <nil>
}
