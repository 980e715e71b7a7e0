package metrics

import (
	"reflect"
	"strings"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/multitrack/multitrack/tracker"
)

// Collector is a prometheus.Collector over one tracker's Stats, read at
// scrape time. It is safe for concurrent use.
type Collector struct {
	t *tracker.Tracker

	captured, kept, sampledOut, rejected, redacted   *prometheus.Desc
	afterClose, panics, deadLetterErrors             *prometheus.Desc
	planViolations, stripped                         *prometheus.Desc
	sinkDelivered, sinkFailed, sinkUndelivered       *prometheus.Desc
	sinkDropped, sinkDeadLettered, sinkSampledOut    *prometheus.Desc
	sinkWriteErrors, sinkPanics, sinkBatches, sinkQD *prometheus.Desc
}

// NewCollector returns a collector of t's counters; register it with a
// prometheus.Registerer. A nil t reports zeros.
func NewCollector(t *tracker.Tracker) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("multitrack_"+name, help, labels, nil)
	}
	return &Collector{
		t:                t,
		captured:         d("captured_total", "Events Capture took while the tracker was open."),
		kept:             d("kept_total", "Events fanned out to the sinks."),
		sampledOut:       d("sampled_out_total", "Events the tracker's sampler dropped."),
		rejected:         d("rejected_total", "Events refused as invalid, by reason.", "reason"),
		redacted:         d("redacted_total", "Properties removed because their keys look secret."),
		afterClose:       d("after_close_total", "Capture calls after Close, ignored."),
		panics:           d("panics_total", "Events lost to a panic recovered in Capture."),
		deadLetterErrors: d("dead_letter_errors_total", "Events that could not be written to the dead-letter file."),
		planViolations:   d("plan_violations_total", "Violations of the tracking plan, by kind.", "kind"),
		stripped:         d("stripped_total", "Properties removed because the tracking plan does not allow them."),
		sinkDelivered:    d("sink_delivered_total", "Events in batches the sink accepted.", "sink"),
		sinkFailed:       d("sink_failed_total", "Events in batches whose Write failed or panicked.", "sink"),
		sinkUndelivered:  d("sink_undelivered_total", "Accepted events the sink later reported as not delivered.", "sink"),
		sinkDropped:      d("sink_dropped_total", "Events dropped before reaching the sink, by reason.", "sink", "reason"),
		sinkDeadLettered: d("sink_dead_lettered_total", "The sink's events written to the dead-letter file.", "sink"),
		sinkSampledOut:   d("sink_sampled_out_total", "Events the sink's own sampler dropped.", "sink"),
		sinkWriteErrors:  d("sink_write_errors_total", "Write calls that returned an error.", "sink"),
		sinkPanics:       d("sink_panics_total", "Panics recovered from the sink.", "sink"),
		sinkBatches:      d("sink_batches_total", "Write calls.", "sink"),
		sinkQD:           d("sink_queue_depth", "Events waiting in the sink's queue.", "sink"),
	}
}

// Describe sends the descriptors of every metric the collector reports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.captured, c.kept, c.sampledOut, c.rejected, c.redacted,
		c.afterClose, c.panics, c.deadLetterErrors, c.planViolations, c.stripped,
		c.sinkDelivered, c.sinkFailed, c.sinkUndelivered, c.sinkDropped,
		c.sinkDeadLettered, c.sinkSampledOut, c.sinkWriteErrors, c.sinkPanics,
		c.sinkBatches, c.sinkQD,
	} {
		ch <- d
	}
}

// Collect reads the tracker's Stats once and sends them as metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.t.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	// byReason sends one counter for each reason in counts, labelled with
	// labels and then the reason.
	byReason := func(d *prometheus.Desc, counts any, labels ...string) {
		for _, r := range reasons(counts) {
			counter(d, r.n, append(labels, r.name)...)
		}
	}
	counter(c.captured, s.Captured)
	counter(c.kept, s.Kept)
	counter(c.sampledOut, s.SampledOut)
	byReason(c.rejected, s.Rejected)
	counter(c.redacted, s.Redacted)
	counter(c.afterClose, s.AfterClose)
	counter(c.panics, s.Panics)
	counter(c.deadLetterErrors, s.DeadLetterErrors)
	byReason(c.planViolations, s.Plan)
	counter(c.stripped, s.Stripped)
	for name, ss := range s.Sinks {
		counter(c.sinkDelivered, ss.Delivered, name)
		counter(c.sinkFailed, ss.Failed, name)
		counter(c.sinkUndelivered, ss.Undelivered, name)
		byReason(c.sinkDropped, ss.Dropped, name)
		counter(c.sinkDeadLettered, ss.DeadLettered, name)
		counter(c.sinkSampledOut, ss.SampledOut, name)
		counter(c.sinkWriteErrors, ss.WriteErrors, name)
		counter(c.sinkPanics, ss.Panics, name)
		counter(c.sinkBatches, ss.Batches, name)
		ch <- prometheus.MustNewConstMetric(c.sinkQD, prometheus.GaugeValue, float64(ss.Queued), name)
	}
}

type reason struct {
	name string
	n    uint64
}

// reasons lists the uint64 fields of a counts-by-reason struct
// (tracker.RejectStats, tracker.DropStats, tracker.PlanStats) as snake_case
// labels, so a reason the tracker adds is exported without a change here.
func reasons(v any) []reason {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	out := make([]reason, 0, rt.NumField())
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() || f.Type.Kind() != reflect.Uint64 {
			continue
		}
		out = append(out, reason{snake(f.Name), rv.Field(i).Uint()})
	}
	return out
}

// snake turns a Go field name into a label value: QueueFull -> queue_full.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

var _ prometheus.Collector = (*Collector)(nil)
