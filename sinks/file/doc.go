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
// # Files moved, deleted or truncated under the sink
//
// Before each batch the sink compares the file it has open with the one at
// the path (device and inode, from one stat) and takes the file's size from
// that stat. So external rotation works, and nothing goes
// to a file nobody will read:
//
//   - deleted (rm events.jsonl, or its directory): the next batch recreates
//     the path (0600, directories 0700);
//   - renamed, as logrotate's create style does (rename, then a new file,
//     whatever its mode): what was written before the rename stays in the
//     renamed file, the next batch opens the path (creating it if logrotate
//     has not yet);
//   - truncated, as logrotate's copytruncate style does: the file is opened
//     O_APPEND, so the next lines start it again, and rotation by size and
//     the cut-back of a failed batch go by its new end.
//
// Each reopen is logged once (WithLogger) and counted in Stats.Reopens, each
// truncation in Stats.Truncations. A batch written in the microseconds
// between the check and the write still goes to the file as it was: with
// logrotate, use delaycompress (create) so that the rotated file is not
// compressed and removed while that batch may reach it; copytruncate can
// lose what is written between its copy and its truncation, as it does for
// every program. With external rotation, turn the sink's own off
// (MULTITRACK_FILE_MAX_SIZE_MB=0).
//
// Rotation is done here rather than with gopkg.in/natefinch/lumberjack.v2:
// lumberjack gives no access to its *os.File, so it cannot fsync (no
// SyncAlways, no fsync before a rotation or on Close); it creates
// directories with mode 0755; it removes old backups from a goroutine that
// Close does not stop (a leak under goleak, and a backup count that tests
// cannot observe deterministically).
package file
