// Package file provides a sink that appends events to a file as event lines
// (one JSON object a line, see eventline.Append), the format that
// eventline.Reader and `multitrack replay` read back.
//
// The file is created with mode 0600 and its missing directories with 0700:
// it says who did what. Every Write hands its batch to the OS before it
// returns; the Sync policy (MULTITRACK_FILE_SYNC: always, interval, never)
// decides when it is fsynced. The file is rotated by size to timestamped
// backups next to it, of which a bounded number is kept
// (MULTITRACK_FILE_MAX_SIZE_MB, MULTITRACK_FILE_MAX_BACKUPS). A path that is
// not a regular file (a named pipe, /dev/stdout) is written but neither
// rotated nor fsynced. Sinks on the same path in one process share one
// reference-counted writer (a second New with other options fails).
//
// Rotation is done here rather than with gopkg.in/natefinch/lumberjack.v2:
// lumberjack gives no access to its *os.File, so it cannot fsync (no
// SyncAlways, no fsync before a rotation or on Close); it creates
// directories with mode 0755; it removes old backups from a goroutine that
// Close does not stop (a leak under goleak, and a backup count that tests
// cannot observe deterministically).
package file
