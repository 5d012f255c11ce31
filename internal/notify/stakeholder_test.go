package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestStakeholderNews(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
	m := &Message{
		Incident: Incident{Namespace: "payments", Name: "inc-abc", Title: "Payments API down", Severity: "SEV1", Phase: "Resolved"},
		Address:  "#status",
		Stakeholder: &StakeholderNews{Event: EventUpdate, Author: "alice", Text: "Rolled back.\nErrors are gone.", Time: at,
			PostmortemURL: "https://wiki.example.com/pm/1"},
	}
	if got, want := Subject(m), "[SEV1] Update: Payments API down (payments/inc-abc)"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	text := Text(m)
	for _, want := range []string{"Update from alice:\nRolled back.\nErrors are gone.", "Postmortem:  https://wiki.example.com/pm/1"} {
		if !strings.Contains(text, want) {
			t.Errorf("Text lacks %q:\n%s", want, text)
		}
	}
	for _, never := range []string{"Escalation:", "Responder:", "Paged:"} {
		if strings.Contains(text, never) {
			t.Errorf("news to stakeholders says %q:\n%s", never, text)
		}
	}

	raw, err := json.Marshal(NewPayload(m))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	news, _ := p["stakeholder"].(map[string]any)
	if p["kind"] != PayloadKindStakeholder || p["page"] != nil || news["event"] != EventUpdate || news["author"] != "alice" ||
		news["time"] != "2026-11-24T10:30:00Z" {
		t.Errorf("payload = %s", raw)
	}
}
