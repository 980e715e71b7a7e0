package metrics

import (
	"reflect"

	"github.com/prometheus/client_golang/prometheus"
)

// StatsCollector exports the numeric fields of a Stats struct read at scrape
// time (an ingest.Server's, a relay's): each field as
// multitrack_<subsystem>_<field in snake_case>_total, a counter, or without
// _total, a gauge, for the fields named as gauges.
type StatsCollector struct {
	read    func() any
	metrics []statsMetric
}

// statsMetric is the metric of one field of the struct.
type statsMetric struct {
	desc  *prometheus.Desc
	field int // the field's index
	kind  prometheus.ValueType
}

// NewStatsCollector returns a collector of the struct read returns; it reads
// the struct's type once, here. Its integer fields are counters unless named
// in gauges (relay's Lag, say).
func NewStatsCollector(subsystem string, read func() any, gauges ...string) *StatsCollector {
	c := &StatsCollector{read: read}
	rt := reflect.TypeOf(read())
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Uint64, reflect.Uint32, reflect.Uint, reflect.Int64, reflect.Int32, reflect.Int:
		default:
			continue
		}
		name, kind, help := "multitrack_"+subsystem+"_"+snake(f.Name)+"_total", prometheus.CounterValue, subsystem+" "+f.Name+", a counter."
		for _, g := range gauges {
			if g == f.Name {
				name, kind, help = "multitrack_"+subsystem+"_"+snake(f.Name), prometheus.GaugeValue, subsystem+" "+f.Name+", now."
			}
		}
		c.metrics = append(c.metrics, statsMetric{desc: prometheus.NewDesc(name, help, nil, nil), field: i, kind: kind})
	}
	return c
}

// Describe sends the descriptor of every field's metric.
func (c *StatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

// Collect reads the struct once and sends every field's value.
func (c *StatsCollector) Collect(ch chan<- prometheus.Metric) {
	rv := reflect.ValueOf(c.read())
	for _, m := range c.metrics {
		f := rv.Field(m.field)
		var v float64
		if f.CanUint() {
			v = float64(f.Uint())
		} else {
			v = float64(f.Int())
		}
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, v)
	}
}

var _ prometheus.Collector = (*StatsCollector)(nil)
