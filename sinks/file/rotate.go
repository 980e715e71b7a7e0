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
func (w *writer) rotate() error {
	if w.cfg.sync != SyncNever {
		if err := w.fsync(true); err != nil {
			return fmt.Errorf("rotating: %w", err)
		}
	}
	if err := w.f.Close(); err != nil {
		w.f = nil
		return fmt.Errorf("rotating: %w", err)
	}
	w.f = nil
	backup, err := w.backupName()
	if err != nil {
		return fmt.Errorf("rotating: %w", err)
	}
	renameErr := os.Rename(w.path, backup)
	// Reopen whatever happened: after a failed rename the old file goes on.
	if err := w.open(); err != nil {
		return errors.Join(renameErr, err)
	}
	if renameErr != nil {
		return fmt.Errorf("rotating: %w", renameErr)
	}
	if err := w.removeOldBackups(); err != nil {
		return fmt.Errorf("rotated to %s, then removing old backups: %w", filepath.Base(backup), err)
	}
	return nil
}

// backupName returns a free backup path for now.
func (w *writer) backupName() (string, error) {
	prefix, ext := w.backupAffixes()
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
func (w *writer) backupAffixes() (prefix, ext string) {
	ext = filepath.Ext(w.path)
	return strings.TrimSuffix(w.path, ext) + "-", ext
}

// backups returns the paths of the file's rotated backups, oldest first.
func (w *writer) backups() ([]string, error) {
	prefix, ext := w.backupAffixes()
	entries, err := os.ReadDir(filepath.Dir(w.path))
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
		backups = append(backups, filepath.Join(filepath.Dir(w.path), name))
	}
	slices.Sort(backups)
	return backups, nil
}

func (w *writer) removeOldBackups() error {
	if w.cfg.maxBackups == 0 {
		return nil
	}
	backups, err := w.backups()
	if err != nil {
		return err
	}
	var errs []error
	for len(backups) > w.cfg.maxBackups {
		if err := os.Remove(backups[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		backups = backups[1:]
	}
	return errors.Join(errs...)
}
