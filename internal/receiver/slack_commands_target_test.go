package receiver

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/docsnippet"
)

func TestCommandTarget(t *testing.T) {
	for name, tc := range map[string]struct {
		text      string
		inChannel []string
		want      [2]string // name, text
		wantWhy   string
	}{
		"ack names it": {text: "ack inc-1", want: [2]string{"inc-1", ""}},
		"ack names another in an incident channel": {text: "ack inc-1", inChannel: []string{"inc-2"}, want: [2]string{"inc-1", ""}},
		"ack in an incident channel":               {text: "ack", inChannel: []string{"inc-2"}, want: [2]string{"inc-2", ""}},
		"resolve with --incident":                  {text: "resolve --incident inc-1", inChannel: []string{"inc-2"}, want: [2]string{"inc-1", ""}},
		"ack elsewhere without a name":             {text: "ack", wantWhy: "Name the incident: /klaxon ack <incident>"},
		"resolve elsewhere without a name":         {text: "resolve", wantWhy: "Name the incident: /klaxon resolve <incident>"},
		"ack in a channel of several incidents":    {text: "ack", inChannel: []string{"inc-1", "inc-2"}, wantWhy: "Several incidents (inc-1, inc-2)"},
		"update elsewhere":                         {text: "update inc-1 Rolled back", want: [2]string{"inc-1", "Rolled back"}},
		"update elsewhere with one word":           {text: "update inc-1", wantWhy: "Name the incident: /klaxon update <incident> <text>"},
		"update elsewhere with an empty text":      {text: `update inc-1 " "`, wantWhy: "no text"},
		"update in an incident channel":            {text: "update inc-1 Rolled back", inChannel: []string{"inc-2"}, want: [2]string{"inc-2", "inc-1 Rolled back"}},
		"update with --incident":                   {text: "update --incident inc-1 Rolled back", inChannel: []string{"inc-2"}, want: [2]string{"inc-1", "Rolled back"}},
		"update with --incident elsewhere":         {text: "update Rolled --incident inc-1 back", want: [2]string{"inc-1", "Rolled back"}},
		"update in a channel of several incidents": {text: "update inc-1 Rolled back", inChannel: []string{"inc-1", "inc-2"}, wantWhy: "--incident"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := parseSlashCommand(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			gotName, gotText, why := commandTarget(c, tc.inChannel)
			switch {
			case tc.wantWhy != "":
				if why == "" || !strings.Contains(why, tc.wantWhy) || !strings.Contains(why, "Nothing was changed.") {
					t.Errorf("commandTarget = %q, %q, %q; want a refusal with %q", gotName, gotText, why, tc.wantWhy)
				}
			case why != "" || [2]string{gotName, gotText} != tc.want:
				t.Errorf("commandTarget = %q, %q, %q; want %q", gotName, gotText, why, tc.want)
			}
		})
	}
}

func TestNeedsChannelIncident(t *testing.T) {
	for text, want := range map[string]bool{
		"ack":                       true,
		"ack inc-1":                 false,
		"resolve --incident inc-1":  false,
		"update inc-1 text":         true,
		"update --incident inc-1 x": false,
		"oncall":                    false,
		`declare "x"`:               false,
	} {
		c, err := parseSlashCommand(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := needsChannelIncident(c); got != want {
			t.Errorf("needsChannelIncident(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestChannelIncidents(t *testing.T) {
	inc := func(name, app, id string) klaxonv1alpha1.Incident {
		i := klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if app != "" {
			i.Status.SlackChannel = &klaxonv1alpha1.IncidentSlackChannel{NotificationChannel: app, Name: "inc-" + name, ID: id}
		}
		return i
	}
	list := []klaxonv1alpha1.Incident{
		inc("b", "team-slack", "C0B"),
		inc("a", "team-slack", "C0A"),
		inc("no-channel", "", ""),
		inc("not-made-yet", "team-slack", ""),
		inc("other-app", "other-slack", "C0A"),
		inc("twin", "team-slack", "C0B"),
	}
	for name, tc := range map[string]struct {
		channelID string
		apps      []string
		want      []string
	}{
		"one incident":                   {channelID: "C0A", apps: []string{"team-slack"}, want: []string{"a"}},
		"several incidents, sorted":      {channelID: "C0B", apps: []string{"team-slack"}, want: []string{"b", "twin"}},
		"the channel of another app":     {channelID: "C0A", apps: []string{"other-slack"}, want: []string{"other-app"}},
		"both apps verified":             {channelID: "C0A", apps: []string{"other-slack", "team-slack"}, want: []string{"a", "other-app"}},
		"no incident's channel":          {channelID: "C0ELSEWHERE", apps: []string{"team-slack"}},
		"an app that did not verify":     {channelID: "C0A", apps: []string{"third-slack"}},
		"an empty ID matches no channel": {channelID: "", apps: []string{"team-slack"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := channelIncidents(list, tc.channelID, tc.apps); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("channelIncidents = %q, want %q", got, tc.want)
			}
		})
	}
}

// The guide's examples act on the incident it says, wherever typed.
func TestSlackGuideIncidentExamples(t *testing.T) {
	where := map[string][][]string{
		"# in checkout-down's own channel": {{"checkout-down"}},
		"# in any other channel":           {nil},
		"# anywhere":                       {nil, {"checkout-down"}, {"search-slow"}},
	}
	var channels [][]string
	examples := 0
	for _, line := range strings.Split(strings.TrimSpace(docsnippet.Block(t, "docs/slack.md", "slack-command-incident")), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			var ok bool
			if channels, ok = where[line]; !ok {
				t.Fatalf("unknown place %q", line)
			}
			continue
		}
		text, ok := strings.CutPrefix(line, "/klaxon ")
		if !ok || channels == nil {
			t.Fatalf("line %q is not a command under a place", line)
		}
		c, err := parseSlashCommand(text)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for _, inChannel := range channels {
			name, msg, why := commandTarget(c, inChannel)
			if why != "" || name != "checkout-down" || (c.verb == "update" && msg != "Rolled back release 1234") {
				t.Errorf("%q typed where %q are: %q, %q, %q", line, inChannel, name, msg, why)
			}
		}
		examples++
	}
	if examples == 0 {
		t.Fatal("the guide shows no example")
	}
}
