package receiver

import (
	"strings"
	"testing"
)

func TestCheckResponseURL(t *testing.T) {
	for name, tc := range map[string]struct {
		raw       string
		plainHTTP bool
		wantErr   string
	}{
		"Slack's":           {raw: "https://hooks.slack.com/commands/T0TEAM/1/abc"},
		"GovSlack's":        {raw: "https://hooks.slack-gov.com/commands/T0TEAM/1/abc"},
		"another host":      {raw: "https://hooks.example.com/commands/x", wantErr: "not on Slack's"},
		"Slack's, a port":   {raw: "https://hooks.slack.com:8443/commands/x", wantErr: "not on Slack's"},
		"http when allowed": {raw: "http://127.0.0.1:8080/commands/x", plainHTTP: true},
		"http otherwise":    {raw: "http://hooks.slack.com/commands/x", wantErr: `"http", not https`},
		"another scheme":    {raw: "file:///etc/passwd", plainHTTP: true, wantErr: `"file", not https`},
		"none":              {raw: "", wantErr: "no response_url"},
		"relative":          {raw: "/commands/x", wantErr: "not https"},
		"no host":           {raw: "https:///commands/x", wantErr: "needs a host"},
		"credentials":       {raw: "https://user:secret@hooks.slack.com/x", wantErr: "no credentials"},
		"unparsable":        {raw: "https://hooks.slack.com/%zz", wantErr: "cannot be parsed"},
		"too long":          {raw: "https://hooks.slack.com/" + strings.Repeat("a", maxResponseURLBytes), wantErr: "bytes long"},
	} {
		t.Run(name, func(t *testing.T) {
			err := checkResponseURL(tc.raw, tc.plainHTTP)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("checkResponseURL = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("checkResponseURL = %v, want an error with %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), "secret"):
				t.Errorf("the error quotes the URL: %v", err)
			}
		})
	}
}
