package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// testNotice is alice's word before her shift. It keeps the page's
// incident and links, which a notice never carries, so that the notice is
// seen to win over them.
func testNotice() *notify.Message {
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	m := testMessage()
	m.Address = "team"
	m.Notice = &notify.ShiftNotice{Kind: notify.NoticeShiftStart, Namespace: "payments", Schedule: "payments-primary",
		Responder: "alice", Start: start, End: start.Add(24 * time.Hour), Text: "Takes over from: {{ range 1000000000 }}bob\nHands over to: carol"}
	return m
}

// A shift notice is one alert KlaxonShiftNotice that names the schedule,
// the person and the kind, summarised by the notice's subject, with no
// severity and no acknowledge link.
func TestNoticeAlert(t *testing.T) {
	rec, srv := newRecorder(t, http.StatusOK, "")
	s, err := New(Config{Egress: loopback, Receiver: fmt.Appendf(nil, "name: whatever\nwebhook_configs:\n  - url: %s/hook\n", srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	m := testNotice()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	var msg struct {
		amtemplate.Data
		GroupKey string `json:"groupKey"`
	}
	if err := json.Unmarshal(rec.only(t).body, &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(msg.Alerts))
	}
	a := msg.Alerts[0]
	wantLabels := amtemplate.KV{"alertname": "KlaxonShiftNotice", "namespace": "payments", "schedule": "payments-primary",
		"responder": "alice", "kind": "ShiftStart", "address": "team"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels\n got %v\nwant %v", a.Labels, wantLabels)
	}
	wantAnnotations := amtemplate.KV{
		"summary": "On call from Mon 7 Dec 08:00 UTC: payments-primary",
		"description": "Shift:       Mon 7 Dec 08:00 UTC to Tue 8 Dec 08:00 UTC\n" +
			"Takes over from: { { range 1000000000 }}bob\nHands over to: carol\n\nSchedule:    payments/payments-primary",
	}
	if fmt.Sprint(a.Annotations) != fmt.Sprint(wantAnnotations) {
		t.Errorf("annotations\n got %q\nwant %q", a.Annotations, wantAnnotations)
	}
	if a.GeneratorURL != "" || !a.StartsAt.Equal(m.SentAt) {
		t.Errorf("generator URL %q, starts at %v: want none, and the time sent", a.GeneratorURL, a.StartsAt)
	}
	if fmt.Sprint(msg.GroupLabels) != "namespace=payments, schedule=payments-primary" {
		t.Errorf("group labels %v", msg.GroupLabels)
	}
	if !strings.HasPrefix(msg.GroupKey, `{}/klaxon:{namespace="payments", schedule="payments-primary", kind="ShiftStart", start="2026-12-07T08:00:00Z", text="`) ||
		strings.Contains(msg.GroupKey, "db-down") {
		t.Errorf("group key %s", msg.GroupKey)
	}
}

// A retried notice keeps its group key; the next shift's, or a change
// that says something else, gets its own.
func TestNoticeGroupKey(t *testing.T) {
	m := testNotice()
	retry := testNotice()
	retry.SentAt = m.SentAt.Add(time.Minute)
	if groupKey(m) != groupKey(retry) {
		t.Errorf("a retry's group key\n%s\ndiffers from\n%s", groupKey(retry), groupKey(m))
	}
	next := testNotice()
	next.Notice.Start = next.Notice.Start.Add(48 * time.Hour)
	change, other := testNotice(), testNotice()
	change.Notice.Kind, change.Notice.Start, change.Notice.Text = notify.NoticeShiftChange, time.Time{}, "Now: none"
	other.Notice.Kind, other.Notice.Start, other.Notice.Text = notify.NoticeShiftChange, time.Time{}, "Now: Tue 8 Dec"
	keys := map[string]bool{}
	for _, x := range []*notify.Message{m, next, change, other} {
		keys[groupKey(x)] = true
	}
	if len(keys) != 4 {
		t.Errorf("%d group keys for 4 notices: %v", len(keys), keys)
	}
}

// TestNoticeDataBounds keeps noticeAlert within the template check's
// bounds, as TestDataBounds does pageAlert.
func TestNoticeDataBounds(t *testing.T) {
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, err = externalURL("https://" + strings.Repeat("e", maxExternalURLBytes-len("https://")))
	if err != nil {
		t.Fatal(err)
	}
	long := func(c string) string { return strings.Repeat(c, 10000) }
	m := testNotice()
	n := m.Notice
	n.Namespace, n.Schedule, n.Responder, n.Kind, n.Text, m.Address = long("n"), long("s"), long("r"), long("k"), long("t\n"), long("d")
	alert := pageAlert(m, m.SentAt)
	data := tmpl.Data(receiverName, model.LabelSet{"namespace": alert.Labels["namespace"], "schedule": alert.Labels["schedule"]}, alert)
	if n := len(fmt.Sprint(data)); n > tmplbudget.DataBound {
		t.Errorf("the data prints as %d bytes, more than tmplbudget.DataBound", n)
	}
	for _, kv := range []amtemplate.KV{data.GroupLabels, data.CommonLabels, data.CommonAnnotations, data.Alerts[0].Labels, data.Alerts[0].Annotations} {
		if len(kv) > tmplbudget.StaticPairs {
			t.Errorf("%d pairs, more than tmplbudget.StaticPairs", len(kv))
		}
		for k, v := range kv {
			if len(k) > tmplbudget.LeafBound || len(v) > tmplbudget.LeafBound {
				t.Errorf("%s is %d bytes, more than tmplbudget.LeafBound", k, len(v))
			}
		}
	}
	if key := groupKey(m); len(key) > 2048 {
		t.Errorf("the group key is %d bytes", len(key))
	}
}
