// Package stdout provides a sink that writes events to standard output (or
// any io.Writer): event lines in JSON for machines and pipes, or short
// coloured lines for humans, through zerolog's ConsoleWriter.
//
// FormatAuto, the default, picks pretty lines on a terminal and JSON
// otherwise; MULTITRACK_STDOUT_FORMAT (json or pretty) overrides it through
// the registry, with ParseFormat.
package stdout
