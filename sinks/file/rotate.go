package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BackupTimeFormat is the UTC timestamp in a backup's name: events.jsonl is
// rotated to events-2026-11-28T10-15-03.123456.jsonl. Names sort in the order
// the backups were made.
const BackupTimeFormat = "2006-01-02T15-04-05.000000"

// rotate closes the current file (fsynced unless SyncNever), renames it to a
// backup, opens a new one, and removes the oldest backups beyond MaxBackups.
// Called with mu held.
func (s *Sink) rotate() error {
	if s.cfg.sync != SyncNever {
		if err := s.fsync(true); err != nil {
			return fmt.Errorf("rotating: %w", err)
		}
	}
	if err := s.f.Close(); err != nil {
		s.f = nil
		return fmt.Errorf("rotating: %w", err)
	}
	s.f = nil
	backup, err := s.backupName()
	if err != nil {
		return fmt.Errorf("rotating: %w", err)
	}
	renameErr := os.Rename(s.path, backup)
	// Reopen whatever happened: after a failed rename the old file goes on.
	if err := s.open(); err != nil {
		return errors.Join(renameErr, err)
	}
	if renameErr != nil {
		return fmt.Errorf("rotating: %w", renameErr)
	}
	if err := s.removeOldBackups(); err != nil {
		return fmt.Errorf("rotated to %s, then removing old backups: %w", filepath.Base(backup), err)
	}
	return nil
}

// backupName returns a free backup path for now.
func (s *Sink) backupName() (string, error) {
	prefix, ext := s.backupAffixes()
	t := time.Now().UTC()
	for range 1000 {
		name := prefix + t.Format(BackupTimeFormat) + ext
		switch _, err := os.Lstat(name); {
		case errors.Is(err, fs.ErrNotExist):
			return name, nil
		case err != nil:
			return "", err
		}
		t = t.Add(time.Microsecond)
	}
	return "", fmt.Errorf("no free backup name after %s%s%s", prefix, t.Format(BackupTimeFormat), ext)
}

// backupAffixes returns what comes before and after the timestamp in a
// backup's path: "dir/events-" and ".jsonl" for dir/events.jsonl.
func (s *Sink) backupAffixes() (prefix, ext string) {
	ext = filepath.Ext(s.path)
	return strings.TrimSuffix(s.path, ext) + "-", ext
}

// Backups returns the paths of the file's rotated backups, oldest first.
func (s *Sink) Backups() ([]string, error) {
	prefix, ext := s.backupAffixes()
	entries, err := os.ReadDir(filepath.Dir(s.path))
	if err != nil {
		return nil, err
	}
	base := filepath.Base(prefix)
	var backups []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, base) || !strings.HasSuffix(name, ext) {
			continue
		}
		stamp := strings.TrimSuffix(strings.TrimPrefix(name, base), ext)
		if _, err := time.Parse(BackupTimeFormat, stamp); err != nil {
			continue
		}
		backups = append(backups, filepath.Join(filepath.Dir(s.path), name))
	}
	slices.Sort(backups)
	return backups, nil
}

func (s *Sink) removeOldBackups() error {
	if s.cfg.maxBackups == 0 {
		return nil
	}
	backups, err := s.Backups()
	if err != nil {
		return err
	}
	var errs []error
	for len(backups) > s.cfg.maxBackups {
		if err := os.Remove(backups[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		backups = backups[1:]
	}
	return errors.Join(errs...)
}
