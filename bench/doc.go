// Package bench measures multitrack beside what it is compared with: each
// benchmark runs multitrack and its anchor (zerolog, posthog-go's Enqueue,
// OpenTelemetry's ratio sampler, a bare posthog-go or NATS client, a bare
// HTTP handler) in the same run, alternating between them in small rounds,
// and reports the ratio, so that a shared machine's changing load weighs on
// both alike. The helpers here (Compare, ThreadCPU, ProcessCPU, Latencies)
// serve the benchmarks in this package and the end-to-end driver,
// bench/cmd/e2e. BENCHMARKS.md at the top of the repository has the figures
// and the one command that reruns them all, bench/run.
package bench
