package receiver

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		text    string
		want    []string
		wantErr string
	}{
		{text: "", want: nil},
		{text: "  ack   inc-1 ", want: []string{"ack", "inc-1"}},
		{text: `declare "Checkout returns 500" --sev SEV2`, want: []string{"declare", "Checkout returns 500", "--sev", "SEV2"}},
		{text: "declare “Checkout down” now", want: []string{"declare", "Checkout down", "now"}},
		{text: `declare "say \"hi\""`, want: []string{"declare", `say "hi"`}},
		{text: `declare ""`, want: []string{"declare", ""}},
		{text: `a"b c"d`, want: []string{"ab cd"}},
		{text: "update\tinc-1\nline", want: []string{"update", "inc-1", "line"}},
		{text: `declare "open`, wantErr: "quote is not closed"},
		{text: "\xff", wantErr: "UTF-8"},
		{text: strings.Repeat("a", maxCommandTextBytes+1), wantErr: "bytes long"},
		{text: strings.Repeat("a ", maxCommandTokens+1), wantErr: "more than"},
	} {
		got, err := tokenize(tc.text)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("tokenize(%.40q) = %q, %v; want an error with %q", tc.text, got, err, tc.wantErr)
			}
		case err != nil || !reflect.DeepEqual(got, tc.want):
			t.Errorf("tokenize(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
		}
	}
}

func TestParseSlashCommand(t *testing.T) {
	for _, tc := range []struct {
		text    string
		want    slashCommand
		wantErr string
	}{
		{text: "", want: slashCommand{verb: "help"}},
		{text: "help", want: slashCommand{verb: "help"}},
		{text: `declare "Checkout down" --sev sev2 --service checkout`,
			want: slashCommand{verb: "declare", args: []string{"Checkout down"}, severity: "SEV2", service: "checkout"}},
		{text: `declare Checkout is down --severity=SEV1`,
			want: slashCommand{verb: "declare", args: []string{"Checkout", "is", "down"}, severity: "SEV1"}},
		{text: "ACK inc-1 --namespace payments", want: slashCommand{verb: "ack", args: []string{"inc-1"}, namespace: "payments"}},
		{text: "resolve inc-1", want: slashCommand{verb: "resolve", args: []string{"inc-1"}}},
		{text: "update inc-1 Rolled back, monitoring", want: slashCommand{verb: "update", args: []string{"inc-1", "Rolled", "back,", "monitoring"}}},
		{text: "oncall", want: slashCommand{verb: "oncall"}},
		{text: "oncall primary", want: slashCommand{verb: "oncall", args: []string{"primary"}}},
		{text: "cover alice dave", want: slashCommand{verb: "cover", args: []string{"alice", "dave"}, coverFor: defaultCoverFor}},
		{text: "cover alice dave --for 3h --schedule primary",
			want: slashCommand{verb: "cover", args: []string{"alice", "dave"}, coverFor: 3 * time.Hour, schedule: "primary"}},
		{text: "page everyone", wantErr: "unknown command"},
		{text: `declare ""`, wantErr: "needs a title"},
		{text: "declare x --sev SEV9", wantErr: "unknown severity"},
		{text: "declare x --sev", wantErr: "needs a value"},
		{text: "ack", want: slashCommand{verb: "ack"}},
		{text: "resolve --incident inc-1", want: slashCommand{verb: "resolve", incident: "inc-1"}},
		{text: "ack --incident=inc-1", want: slashCommand{verb: "ack", incident: "inc-1"}},
		{text: "update Rolled back", want: slashCommand{verb: "update", args: []string{"Rolled", "back"}}},
		{text: `update --incident inc-1 "Rolled back"`, want: slashCommand{verb: "update", args: []string{"Rolled back"}, incident: "inc-1"}},
		{text: "ack a b", wantErr: "at most one incident"},
		{text: "ack a --incident b", wantErr: "names the incident twice"},
		{text: "ack --incident", wantErr: "needs a value"},
		{text: "ack --incident=", wantErr: "--incident needs an incident name"},
		{text: "ack a --service x", wantErr: "takes no flag"},
		{text: "declare x --incident inc-1", wantErr: "takes no flag"},
		{text: "update", wantErr: "needs the text"},
		{text: `update ""`, wantErr: "needs the text"},
		{text: "update --incident inc-1", wantErr: "needs the text"},
		{text: "oncall a b", wantErr: "at most one"},
		{text: "cover alice", wantErr: "two people"},
		{text: "cover a b --for 30d", wantErr: "--for takes"},
		{text: "cover a b --for -1h", wantErr: "--for takes"},
	} {
		got, err := parseSlashCommand(tc.text)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseSlashCommand(%q) = %+v, %v; want an error with %q", tc.text, got, err, tc.wantErr)
			}
		case err != nil || !reflect.DeepEqual(got, tc.want):
			t.Errorf("parseSlashCommand(%q) = %+v, %v; want %+v", tc.text, got, err, tc.want)
		}
	}
}

func FuzzParseSlashCommand(f *testing.F) {
	for _, s := range []string{"", `declare "a b" --sev SEV2`, "cover a b --for 3h", "update x “y” \\", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		words, err := tokenize(text)
		if err != nil {
			_, perr := parseSlashCommand(text)
			if perr == nil {
				t.Fatalf("tokenize refused %q but parseSlashCommand did not", text)
			}
			return
		}
		if len(words) > maxCommandTokens {
			t.Fatalf("%d words", len(words))
		}
		total := 0
		for _, w := range words {
			if !utf8.ValidString(w) {
				t.Fatalf("word %q is not UTF-8", w)
			}
			total += len(w)
		}
		if total > len(text) {
			t.Fatalf("words of %d bytes from a text of %d", total, len(text))
		}
		c, err := parseSlashCommand(text)
		if err == nil {
			if _, ok := commandVerbs[c.verb]; !ok {
				t.Fatalf("verb %q parsed", c.verb)
			}
		}
	})
}
