package uuidv7

import (
	"testing"

	"github.com/google/uuid"
)

func TestCanonicalKeepsUUIDsAndMakesStableOnes(t *testing.T) {
	const u = "0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f"
	for in, want := range map[string]string{
		u:                                        u,
		"0190F3C4-8B2A-7D4E-9F10-3C5A7B9D1E2F":   u,
		"urn:uuid:" + u:                          u,
		"order-1":                                uuid.NewSHA1(LegacySpace, []byte("order-1")).String(),
		"{0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f}": u,
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
	if v, err := uuid.Parse(Canonical("")); err != nil || v.Version() != 7 {
		t.Errorf("Canonical(\"\") = %v, %v; want a new UUIDv7", v, err)
	}
}
