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
	read   func() any
	descs  []*prometheus.Desc
	fields []int
	kinds  []prometheus.ValueType
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
		c.descs = append(c.descs, prometheus.NewDesc(name, help, nil, nil))
		c.fields = append(c.fields, i)
		c.kinds = append(c.kinds, kind)
	}
	return c
}

// Describe sends the descriptor of every field's metric.
func (c *StatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads the struct once and sends every field's value.
func (c *StatsCollector) Collect(ch chan<- prometheus.Metric) {
	rv := reflect.ValueOf(c.read())
	for i, d := range c.descs {
		f := rv.Field(c.fields[i])
		var v float64
		if f.CanUint() {
			v = float64(f.Uint())
		} else {
			v = float64(f.Int())
		}
		ch <- prometheus.MustNewConstMetric(d, c.kinds[i], v)
	}
}

var _ prometheus.Collector = (*StatsCollector)(nil)
