package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// TestPayloadGolden pins the JSON of a full payload: receivers depend on
// every name in it. Run with -update after a deliberate change, and bump
// PayloadVersion if the change could break a receiver.
func TestPayloadGolden(t *testing.T) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as the webhook sends it
	enc.SetIndent("", "  ")
	if err := enc.Encode(NewPayload(sample())); err != nil {
		t.Fatal(err)
	}
	got := b.Bytes()
	path := filepath.Join("testdata", "payload.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("payload differs from %s (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

// TestPayloadMinimal checks what is left out when optional fields are
// empty, and what is always there.
func TestPayloadMinimal(t *testing.T) {
	m := &Message{Incident: Incident{Namespace: "ns", Name: "inc", Title: "Down"}}
	got, err := json.Marshal(NewPayload(m))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"klaxon.dev/v1","kind":"Page","incident":{"namespace":"ns","name":"inc","title":"Down"},"page":{"level":0,"round":0}}`
	if string(got) != want {
		t.Errorf("minimal payload:\n got %s\nwant %s", got, want)
	}
}

func TestPayloadDoesNotShareThePagedSlice(t *testing.T) {
	m := sample()
	p := NewPayload(m)
	m.Page.Paged[0] = "mallory"
	if p.Page.Paged[0] != "alice" {
		t.Errorf("payload's paged changed with the message's: %v", p.Page.Paged)
	}
}
