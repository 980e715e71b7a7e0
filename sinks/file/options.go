package file

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Defaults, as the registry documents them for MULTITRACK_FILE_MAX_SIZE_MB,
// MULTITRACK_FILE_MAX_BACKUPS and MULTITRACK_FILE_SYNC.
const (
	DefaultMaxSizeMB  = 100
	DefaultMaxBackups = 10
	DefaultSync       = SyncInterval
	// SyncPeriod is how often SyncInterval fsyncs a file that has been
	// written to.
	SyncPeriod = time.Second

	// MaxSizeMBLimit is the largest size WithMaxSizeMB accepts: 1048576 MiB
	// (1 TiB). Larger values are refused, not wrapped to a small size.
	MaxSizeMBLimit = 1 << 20
	// MaxBackupsLimit is the most backups WithMaxBackups accepts.
	MaxBackupsLimit = 100_000
)

// Sync says when the sink asks the OS to put written events on disk (fsync).
// Every Write hands its events to the OS before it returns, whatever the
// policy: a crash of the process loses nothing Write accepted; the policy
// decides what a crash of the machine can lose.
type Sync int

const (
	// SyncInterval fsyncs at most every SyncPeriod, when something was
	// written, and on Flush and Close. The default.
	SyncInterval Sync = iota
	// SyncAlways fsyncs at the end of every Write (each batch).
	SyncAlways
	// SyncNever leaves it to the OS, even on Close.
	SyncNever
)

// String returns the policy's name as ParseSync accepts it.
func (s Sync) String() string {
	switch s {
	case SyncInterval:
		return "interval"
	case SyncAlways:
		return "always"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("Sync(%d)", int(s))
}

// ParseSync parses "always", "interval" or "never", ignoring case, as in
// MULTITRACK_FILE_SYNC; "" gives DefaultSync.
func ParseSync(s string) (Sync, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return DefaultSync, nil
	case "interval":
		return SyncInterval, nil
	case "always":
		return SyncAlways, nil
	case "never":
		return SyncNever, nil
	}
	return DefaultSync, fmt.Errorf("file sync %q: want always, interval or never", s)
}

type config struct {
	sync       Sync
	maxSizeMB  int
	maxBackups int
	syncPeriod time.Duration        // SyncPeriod; shorter in tests
	fsync      func(*os.File) error // (*os.File).Sync; failing in tests
}

// Option configures a Sink.
type Option func(*config)

// WithSync sets the fsync policy (default SyncInterval).
func WithSync(s Sync) Option { return func(c *config) { c.sync = s } }

// WithMaxSizeMB sets the size in MiB at which the file is rotated: renamed to
// a timestamped backup next to it, and a new file started (default
// DefaultMaxSizeMB). 0 turns rotation off; New refuses a size below 0 or
// above MaxSizeMBLimit.
func WithMaxSizeMB(n int) Option { return func(c *config) { c.maxSizeMB = n } }

// WithMaxBackups sets how many rotated backups are kept; older ones are
// removed at each rotation (default DefaultMaxBackups). 0 keeps them all;
// New refuses a number below 0 or above MaxBackupsLimit.
func WithMaxBackups(n int) Option { return func(c *config) { c.maxBackups = n } }

// sameAs reports whether two Sinks with c and o can share a file.
func (c config) sameAs(o config) bool {
	return c.sync == o.sync && c.maxSizeMB == o.maxSizeMB && c.maxBackups == o.maxBackups
}

// String names the options that must agree for two Sinks to share a file.
func (c config) String() string {
	return fmt.Sprintf("sync %v, max size %d MB, max backups %d", c.sync, c.maxSizeMB, c.maxBackups)
}

func (c *config) validate() error {
	var problems []string
	switch c.sync {
	case SyncInterval, SyncAlways, SyncNever:
	default:
		problems = append(problems, fmt.Sprintf("unknown %v: want SyncAlways, SyncInterval or SyncNever", c.sync))
	}
	switch {
	case c.maxSizeMB < 0:
		problems = append(problems, fmt.Sprintf("max size %d MB is negative (0 turns rotation off)", c.maxSizeMB))
	case c.maxSizeMB > MaxSizeMBLimit:
		problems = append(problems, fmt.Sprintf("max size %d MB is too large: want 0 to %d (0 turns rotation off)", c.maxSizeMB, MaxSizeMBLimit))
	}
	switch {
	case c.maxBackups < 0:
		problems = append(problems, fmt.Sprintf("max backups %d is negative (0 keeps every backup)", c.maxBackups))
	case c.maxBackups > MaxBackupsLimit:
		problems = append(problems, fmt.Sprintf("max backups %d is too many: want 0 to %d (0 keeps every backup)", c.maxBackups, MaxBackupsLimit))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
