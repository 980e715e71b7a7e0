package plan_test

import (
	"errors"
	"go/parser"
	"go/token"
	"os"
	"testing"

	"github.com/multitrack/multitrack/plan"
	"github.com/multitrack/multitrack/tracker"
)

// FuzzParse: any input gives a Checker or an *plan.Error naming the file,
// never a panic; a plan that loads checks events, and its generated code is
// Go.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"../testdata/plans/demo.yaml", "testdata/load/bad.yaml", "testdata/load/good.json", "testdata/load/bad.json", "testdata/gen/every.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("events: {a: {properties: {b: {type: string, pattern: '[a-z]+', enum: [x, y], min: 1}}}}"))
	f.Add([]byte("common: {s: string}\nevents: {\"\": {}, \"a.b\": {go_name: X}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := plan.Parse(data, "fuzz.yaml")
		if err != nil {
			var pe *plan.Error
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("want a *plan.Error with problems, got %T %v", err, err)
			}
			for _, p := range pe.Problems {
				if p.File != "fuzz.yaml" || p.Msg == "" || p.Line < 0 {
					t.Fatalf("problem without file or message: %#v", p)
				}
			}
			return
		}
		p := c.Plan()
		for _, ev := range p.Events {
			props := map[string]any{"unknown": 1.5}
			for _, prop := range ev.Properties {
				props[prop.Name] = "x"
			}
			e := tracker.Event{Name: ev.Name, Properties: props}
			if n, vs := c.Check(e.Name, e.Properties, nil), c.Violations(e.Name, e.Properties, nil); n.Total() != uint64(len(vs)) {
				t.Fatalf("%s: Check counts %d, Violations lists %d", ev.Name, n.Total(), len(vs))
			}
		}
		src, err := plan.Generate(p, "events")
		if err != nil {
			var pe *plan.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Generate: %v", err) // a formatting failure is a bug in Generate
			}
			return
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "events.go", src, parser.AllErrors); err != nil {
			t.Fatalf("generated code does not parse: %v\n%s", err, src)
		}
	})
}
