package posthog_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/multitrack/multitrack/sinks/posthog"
	"github.com/multitrack/multitrack/tracker"
)

// Wiring the PostHog sink into a tracker: events captured with an
// organization in the context go to PostHog with $groups, organization
// properties are kept up to date from warehouse_provisioned events, and
// whatever PostHog does not take ends in the dead-letter file. (It needs a
// PostHog project, so it has no output to check.)
func Example() {
	sink, err := posthog.New(os.Getenv("POSTHOG_API_KEY"),
		posthog.WithEndpoint("https://eu.i.posthog.com"), // POSTHOG_HOST
		posthog.WithGroupProperties(tracker.GroupOrganization, "plan", "region"),
		posthog.WithLogger(zerolog.New(os.Stderr).Level(zerolog.WarnLevel)),
	)
	if err != nil {
		log.Fatal(err)
	}
	tr, err := tracker.New(
		tracker.WithSink("posthog", sink),
		tracker.WithDeadLetter("/var/lib/myservice/multitrack-dead-letter.jsonl"),
	)
	if err != nil {
		log.Fatal(err)
	}

	ctx := tracker.WithOrganization(context.Background(), "org_42")
	tr.Capture(ctx, tracker.Event{
		Name:       "warehouse_provisioned",
		Properties: map[string]any{"plan": "pro", "region": "eu-west-1", "size": "xs"},
	})
	tr.Capture(ctx, tracker.Event{
		Name:       "query_failed",
		Properties: map[string]any{"sqlstate": "42P01", "error_category": "undefined_table"},
	})

	// At shutdown: deliver what is queued, within a deadline.
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Close(closeCtx); err != nil {
		log.Print(err) // counts what went to the dead-letter file instead
	}
	log.Printf("sent %d events to PostHog", sink.Stats().Sent)
}

// Sending what the sink holds now, and setting a group's properties
// directly: Flush returns once PostHog has answered (or the sink has given
// up on an event, which goes to the dead letter). (It needs a PostHog
// project, so it has no output to check.)
func ExampleSink_Flush() {
	sink, err := posthog.New(os.Getenv("POSTHOG_API_KEY"),
		posthog.WithPersonProfiles(posthog.PersonProfilesNever), // organization-keyed events: no person profiles
	)
	if err != nil {
		log.Fatal(err)
	}
	defer sink.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sink.GroupIdentify(ctx, tracker.GroupOrganization, "org_42", map[string]any{"plan": "enterprise"}); err != nil {
		log.Print(err)
	}
	if err := sink.Flush(ctx); err != nil {
		log.Print(err) // counts what is still under way
	}
}
