package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/multitrack/multitrack/tracker"
)

// Handler serves t's metrics, with the Go runtime's and the process's, in
// Prometheus's text format, from a registry of its own (the global
// prometheus.DefaultRegisterer is left alone).
func Handler(t *tracker.Tracker) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(t),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
