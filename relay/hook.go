package relay

import "github.com/multitrack/multitrack/tracker"

// hasUndeliveredHook says whether the tracker reports, event by event, what
// a sink did not deliver (tracker.WithUndeliveredHook). Until it does, a
// batch in which any sink failed is sent again whole.
const hasUndeliveredHook = false

// trackerOptions are the options the relay's tracker needs: no dead letter
// of its own (a failed event is redelivered; the relay dead-letters only
// the last failure).
func (r *Relay) trackerOptions() []tracker.Option {
	_ = r.undelivered // installed with tracker.WithUndeliveredHook once the tracker has it
	return []tracker.Option{tracker.WithDeadLetter("")}
}
