// Package eventline writes and reads event lines: one JSON object a line,
// UTF-8, '\n'-terminated, with the fields of PostHog's capture API. The file
// sink, the stdout sink's JSON format and the tracker's dead-letter file
// write them; `multitrack replay` reads them back.
//
//	{"uuid":"0190f3c4-…","event":"query_failed","distinct_id":"org_42","timestamp":"2026-11-28T10:15:03.123456Z","groups":{"organization":"org_42"},"properties":{"sqlstate":"42P01"}}
//
// Append writes one; ReadFile reads a whole file (a dead letter, say) in one
// call; a Reader streams them; Parse decodes one line. Readers skip a torn
// last line (a process killed mid-write) with a warning (ErrTornLine); any
// other bad line is a *LineError naming the file and line.
package eventline
