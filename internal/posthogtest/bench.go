package posthogtest

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	ph "github.com/posthog/posthog-go"
)

// Compare measures two ways of sending n events side by side in one run:
// each of b.N rounds times base and other, in alternating order (so that a
// machine's changing load weighs on both). It reports each one's events/s
// and, as "<other>/<base>", the median over rounds of the ratio of their
// rates within a round. ns/op is per round: run with -benchtime=10x or more.
func Compare(b *testing.B, n int, baseName string, base func() time.Duration, otherName string, other func() time.Duration) {
	var tBase, tOther time.Duration
	ratios := make([]float64, 0, b.N)
	for i := range b.N {
		var db, do time.Duration
		if i%2 == 0 {
			db, do = base(), other()
		} else {
			do, db = other(), base()
		}
		tBase, tOther = tBase+db, tOther+do
		ratios = append(ratios, db.Seconds()/do.Seconds())
	}
	slices.Sort(ratios)
	total := float64(b.N * n)
	b.ReportMetric(total/tBase.Seconds(), baseName+"-events/s")
	b.ReportMetric(total/tOther.Seconds(), otherName+"-events/s")
	b.ReportMetric(ratios[len(ratios)/2], otherName+"/"+baseName)
}

// Counter is a posthog-go Callback that counts its reports.
type Counter struct{ Sent, Failed atomic.Int64 }

// Success implements posthog.Callback.
func (c *Counter) Success(ph.APIMessage) { c.Sent.Add(1) }

// Failure implements posthog.Callback.
func (c *Counter) Failure(ph.APIMessage, error) { c.Failed.Add(1) }

var _ ph.Callback = (*Counter)(nil)
