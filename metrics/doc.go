// Package metrics exposes a tracker's counters (tracker.Stats) to monitoring:
// as a Prometheus collector read at scrape time, and as an expvar variable.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.NewCollector(t))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Nothing is counted twice: the collector holds no state of its own, so a
// scrape costs one Stats call, and a tracker that is never scraped pays
// nothing. The metrics are:
//
//	multitrack_captured_total                          events Capture took
//	multitrack_kept_total                              events fanned out to the sinks
//	multitrack_sampled_out_total                       events the tracker's sampler dropped
//	multitrack_rejected_total{reason}                  invalid events, by reason (empty_name, unencodable, too_large, bad_timestamp, plan)
//	multitrack_redacted_total                          properties removed because their keys look secret
//	multitrack_after_close_total                       Capture calls after Close
//	multitrack_panics_total                            events lost to a panic recovered in Capture
//	multitrack_dead_letter_errors_total                events that could not be written to the dead letter
//	multitrack_plan_violations_total{kind}             violations of the tracking plan (unplanned, missing_required, wrong_type, …)
//	multitrack_stripped_total                          properties removed because the tracking plan does not allow them
//	multitrack_sink_delivered_total{sink}              events in batches the sink accepted
//	multitrack_sink_failed_total{sink}                 events in batches whose Write failed
//	multitrack_sink_undelivered_total{sink}            accepted events the sink later reported undelivered
//	multitrack_sink_dropped_total{sink,reason}         events dropped before Write (queue_full, closed, shutdown_deadline)
//	multitrack_sink_dead_lettered_total{sink}          events written to the dead-letter file
//	multitrack_sink_sampled_out_total{sink}            events the sink's own sampler dropped
//	multitrack_sink_write_errors_total{sink}           Write calls that returned an error
//	multitrack_sink_panics_total{sink}                 panics recovered from the sink
//	multitrack_sink_batches_total{sink}                Write calls
//	multitrack_sink_queue_depth{sink}                  events waiting in the sink's queue now
//
// A reason label is the snake_case name of the Stats field that counts it, so
// a reason added to tracker.Stats appears here without a change.
package metrics
