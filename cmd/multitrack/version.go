package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
	"strings"
)

// modulePath is the module whose version the version command prints.
const modulePath = "github.com/multitrack/multitrack"

// versionCommand prints the module version from the build information.
type versionCommand struct{ main *Main }

func (c *versionCommand) Run(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: multitrack version

Prints the version of the multitrack module this program was built from, as
the Go build information records it: a release such as v1.2.0, a
pseudo-version for a commit, or (devel); then the Go version and, when
known, the commit.
`)
	}
	if err := parseFlags(fs, args, c.main.Stdout, c.main.Stderr); err != nil {
		return err
	}
	read := c.main.readBuildInfo
	if read == nil {
		read = debug.ReadBuildInfo
	}
	bi, ok := read()
	if !ok {
		fmt.Fprintln(c.main.Stdout, "multitrack (unknown version: built without module support)")
		return nil
	}
	fmt.Fprintf(c.main.Stdout, "multitrack %s\n", describeBuild(bi))
	return nil
}

// describeBuild returns "v1.2.0 (go1.26.8, commit 0123abcd, modified)":
// the multitrack module's version, whether it is the main module or a
// dependency of it, and what else the build information says.
func describeBuild(bi *debug.BuildInfo) string {
	version := "(unknown version)"
	if bi.Main.Path == modulePath {
		version = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			version = d.Version
			if d.Replace != nil {
				version += " => " + d.Replace.Path + " " + d.Replace.Version
			}
		}
	}
	if version == "" {
		version = "(devel)"
	}
	extra := []string{bi.GoVersion}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		extra = append(extra, "commit "+rev[:min(len(rev), 12)])
	}
	if settings["vcs.modified"] == "true" {
		extra = append(extra, "modified")
	}
	return version + " (" + strings.Join(extra, ", ") + ")"
}
