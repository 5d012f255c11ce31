package alertmanager

import (
	"os"
	"strings"
	"testing"
)

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, block, want string
	}{
		{"empty", "  \n", "the receiver block is empty"},
		{"invalid YAML", "telegram_configs: [{", "the receiver block is not valid YAML"},
		{"not a mapping", "- telegram_configs: []", "the receiver block is not a YAML mapping"},
		{"unknown field", "msteamsv2_configs:\n  - webhook_url: http://x.invalid/\n    colour: red\n", "line 3: field colour not found"},
		{"unknown integration", "carrier_pigeon_configs: [{}]", "field carrier_pigeon_configs not found"},
		{"Alertmanager's validation", "msteamsv2_configs: [{title: x}]", "the receiver block does not load: one of webhook_url or webhook_url_file must be configured"},
		{"wrong type", "telegram_configs: [{bot_token: x, chat_id: many}]", "cannot unmarshal"},
		{"no integration", "name: lonely\n", "the receiver block has no integration"},
		{"empty lists", "telegram_configs: []\nmsteamsv2_configs: []\n", "the receiver block has no integration"},
		{"too big", "name: x\n#" + strings.Repeat("y", MaxReceiverBytes), "more than the 65536 allowed"},

		{"bot_token_file", "telegram_configs: [{bot_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token, chat_id: 1}]",
			"telegram_configs[0].bot_token_file reads a file from the operator's disk"},
		{"webhook_url_file", "msteamsv2_configs: [{webhook_url_file: /etc/hostname}]", "msteamsv2_configs[0].webhook_url_file reads a file"},
		{"api_key_file", "opsgenie_configs: [{api_key_file: /etc/hostname}]", "opsgenie_configs[0].api_key_file reads a file"},
		{"routing_key_file", "pagerduty_configs: [{routing_key_file: /etc/hostname}]", "pagerduty_configs[0].routing_key_file reads a file"},
		{"auth_password_file", "email_configs: [{to: a@b.example, from: c@d.example, smarthost: 'mail.invalid:25', auth_username: u, auth_password_file: /etc/hostname}]",
			"email_configs[0].auth_password_file reads a file"},
		{"credentials_file", "webhook_configs: [{url: 'http://x.invalid/', http_config: {authorization: {credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token}}}]",
			"webhook_configs[0].http_config.authorization.credentials_file reads a file"},
		{"password_file", "discord_configs: [{webhook_url: 'http://x.invalid/', http_config: {basic_auth: {username: u, password_file: /etc/hostname}}}]",
			"discord_configs[0].http_config.basic_auth.password_file reads a file"},
		{"ca_file", "slack_configs: [{api_url: 'http://x.invalid/', http_config: {tls_config: {ca_file: /etc/ssl/ca.pem}}}]",
			"slack_configs[0].http_config.tls_config.ca_file reads a file"},
		{"cert and key files", "webex_configs: [{room_id: r, http_config: {authorization: {credentials: c}, tls_config: {cert_file: /c, key_file: /k}}}]",
			"webex_configs[0].http_config.tls_config.cert_file reads a file"},
		{"email tls ca_file", "email_configs: [{to: a@b.example, from: c@d.example, smarthost: 'mail.invalid:25', tls_config: {ca_file: /etc/ssl/ca.pem}}]",
			"email_configs[0].tls_config.ca_file reads a file"},
		{"oauth2 client_secret_file", "webhook_configs: [{url: 'http://x.invalid/', http_config: {oauth2: {client_id: i, client_secret_file: /s, token_url: 'http://t.invalid/'}}}]",
			"webhook_configs[0].http_config.oauth2.client_secret_file reads a file"},
		{"header files", "webhook_configs: [{url: 'http://x.invalid/', http_config: {http_headers: {X-Token: {files: [/var/run/secrets/kubernetes.io/serviceaccount/token]}}}}]",
			"webhook_configs[0].http_config.http_headers.X-Token.files reads a file"},
		{"sns without keys", "sns_configs: [{topic_arn: 'arn:aws:sns:us-east-1:1:t', sigv4: {region: us-east-1}}]",
			"the operator's own AWS credentials"},
		{"sns profile", "sns_configs: [{topic_arn: 'arn:aws:sns:us-east-1:1:t', sigv4: {region: us-east-1, profile: prod, access_key: a, secret_key: b}}]",
			"sns_configs[0].sigv4.profile reads the operator's AWS files"},

		{"range over a number", "telegram_configs: [{bot_token: x, chat_id: 1, message: '{{ range 1000000000 }}x{{ end }}'}]",
			`the template in telegram_configs[0].message is refused: it ranges over "1000000000"`},
		{"range over a time's number", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .Alerts }}{{ range .StartsAt.UnixNano }}{{ end }}{{ end }}'}]",
			`it ranges over ".StartsAt.UnixNano"`},
		{"range over a number in dot", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .Alerts }}{{ with .StartsAt.Year }}{{ range . }}x{{ end }}{{ end }}{{ end }}'}]",
			`it ranges over "."`},
		{"range over bytes", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .Alerts }}{{ range .StartsAt.AppendFormat nil "2006" }}{{ end }}{{ end }}'}]`,
			`it ranges over ".StartsAt.AppendFormat nil \"2006\""`},
		{"range over an assigned variable", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ $l := .Alerts }}{{ $l = 5 }}{{ range $l }}{{ end }}'}]`,
			`it ranges over "$l"`},
		{"recursive define", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ define "x" }}{{ template "x" . }}{{ template "x" . }}{{ end }}{{ template "x" . }}'}]`,
			"it defines templates"},
		{"redefined default", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ define "__subject" }}{{ template "__subject" . }}{{ end }}x'}]`,
			"it defines templates"},
		{"block", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ block "y" . }}y{{ end }}'}]`,
			"it defines templates"},
		{"self call", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ template "" . }}{{ template "" . }}'}]`,
			`it calls template "", which is not one of Alertmanager's default templates`},
		{"doubling by assignment", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ $a := "ab" }}{{ range .Alerts }}{{ $a = print $a $a }}{{ end }}{{ $a }}'}]`,
			"a variable may be assigned (=) only a literal or a field of the data"},
		{"doubling by declaration", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ $a := .CommonAnnotations.description }}" +
			strings.Repeat("{{ $a := print $a $a }}", 20) + "{{ $a }}'}]",
			"more than the 16.0 MiB allowed"},
		{"printf widths", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ printf "` + strings.Repeat("%0999999d", 40) + `" 1 }}'}]`,
			"has a width or precision over 64"},
		{"printf star width", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ range .CommonLabels }}{{ printf "%*d%*d" 999999 1 999999 1 }}{{ end }}'}]`,
			"takes a width or precision from an argument (*)"},
		{"printf widths in loops", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '" +
			strings.Repeat("{{ range $.CommonLabels }}", 3) + `{{ printf "` + strings.Repeat("%064d", 6) + `" 1 }}` + strings.Repeat("{{ end }}", 3) + "'}]",
			"more than the 16.0 MiB allowed"},
		{"printf variable format", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ printf .CommonAnnotations.summary }}'}]`,
			"printf with a format that is not a literal string"},
		{"nested reReplaceAll", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '` +
			strings.Repeat(`{{ reReplaceAll "(.)" "$1$1$1$1" (`, 1) + strings.Repeat(`reReplaceAll "(.)" "$1$1$1$1" (`, 5) +
			`.CommonAnnotations.description` + strings.Repeat(")", 6) + ` }}'}]`,
			"more than the 16.0 MiB allowed"},
		{"regexp from data", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ match .CommonLabels.service .Status }}'}]`,
			"match with a pattern that is not a literal string"},
		{"nested ranges", "msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '" +
			strings.Repeat("{{ range $.CommonLabels }}", 6) + "{{ . }}" + strings.Repeat("{{ end }}", 6) + "'}]",
			"more than the 16.0 MiB allowed"},
		{"call", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', text: '{{ call .Status }}'}]`,
			"it uses call, which is not allowed"},
		{"rerun: backslash", `pagerduty_configs: [{routing_key: k, details: {x: '["\x7b\x7b range 1000000000 \x7d\x7d"]'}}]`,
			"the value of pagerduty_configs[0].details.x is refused: it holds a backslash"},
		{"rerun: literal spelling a template", `jira_configs: [{api_url: 'http://j.invalid/', project: P, issue_type: Bug, fields: {customfield_1: '{"a": ["{{ print 1 }}"]}'}}]`,
			"jira_configs[0].fields.customfield_1 is refused: its output is run again as a template"},
		{"rerun: built braces", `pagerduty_configs: [{routing_key: k, details: {x: '{{ "{{" }} range 1000000000 {{ "}}" }}'}}]`,
			"its output is run again as a template"},
		{"rerun: brace in text", `pagerduty_configs: [{routing_key: k, details: {x: 'x{ {{ .CommonLabels.service }}'}}]`,
			"its output is run again as a template"},
		{"rerun: tag before a value", `pagerduty_configs: [{routing_key: k, details: {x: '[!!binary {{ .CommonLabels.service }}]'}}]`,
			"its output is run again as a template"},
		{"rerun: literal with a tag", `pagerduty_configs: [{routing_key: k, details: {x: '[!!binary e3sgcHJpbnQgMSB9fQ==]'}}]`,
			"details.x is refused: its output is run again as a template"},
		{"rerun: values side by side", `pagerduty_configs: [{routing_key: k, details: {x: '{{ .CommonLabels.service }}{{ .CommonAnnotations.summary }}'}}]`,
			"its output is run again as a template"},
		{"rerun: control structure", `pagerduty_configs: [{routing_key: k, details: {x: {z: ['{{ range .Alerts }}{{ end }}']}}}]`,
			"the value of pagerduty_configs[0].details.x.z[0] is refused"},
		{"default template with a wrong dot", `msteamsv2_configs: [{webhook_url: 'http://x.invalid/', title: '{{ template "__text_alert_list" .StartsAt }}'}]`,
			`in template "__text_alert_list": it ranges over "."`},
		{"the block's sum", "telegram_configs:\n" + strings.Repeat(
			"  - {bot_token: x, chat_id: 1, message: '{{ range stringSlice 1 2 3 4 5 6 7 8 9 }}{{ template \"email.default.html\" $ }}{{ end }}'}\n", 7),
			"with the block's other templates it could produce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Egress: loopback, Receiver: []byte(tc.block)})
			if err == nil {
				t.Fatal("New accepted the block")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n %q\nlacks\n %q", err, tc.want)
			}
			if len(err.Error()) > maxErrorBytes {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

// TestRerunFields: what passes in PagerDuty details and Jira
// fields.
func TestRerunFields(t *testing.T) {
	_ = newTestSender(t, `
pagerduty_configs:
  - routing_key: k
    details:
      summary: '{{ .CommonAnnotations.summary }} on {{ .CommonLabels.service | toUpper }}'
      labels: '{{ .CommonLabels | toJson }}'
      nested: {list: ['{{ .Status }}', 2, true, 'plain: {x}']}
      yaml: '{a: [b, c]}'
jira_configs:
  - api_url: 'http://jira.invalid/'
    project: OPS
    issue_type: Bug
    fields:
      customfield_10000: '{{ $.CommonLabels.incident }}'
      components: [{name: '{{ .GroupLabels.namespace }}'}]
`)
}

func TestRefusalRedactsValues(t *testing.T) {
	_, err := New(Config{Egress: loopback, Receiver: []byte(
		"msteamsv2_configs: [{webhook_url: 'http://[::1/workflows/sig=super-secret-signature'}]")})
	if err == nil || strings.Contains(err.Error(), "super-secret-signature") {
		t.Errorf("error: %v", err)
	}
}

func TestExternalURL(t *testing.T) {
	for _, ext := range []string{"klaxon.example.com", "ftp://klaxon.example.com", "http://", "https://x/" + strings.Repeat("a", maxExternalURLBytes)} {
		_, err := New(Config{Egress: loopback, Receiver: []byte("webhook_configs: [{url: 'http://x.invalid/'}]"), ExternalURL: ext})
		if err == nil || !strings.Contains(err.Error(), "external URL") {
			t.Errorf("ExternalURL %q: %v", ext, err)
		}
	}
}

// TestEveryIntegration: Alertmanager's default templates, for
// every integration, pass the template check.
func TestEveryIntegration(t *testing.T) {
	block, err := os.ReadFile("testdata/every-integration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Egress: loopback, Receiver: block})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Every integration but email_configs, which is refused
	// (TestEgressRefusals).
	if n := len(s.(*sender).integrations); n != 17 {
		t.Errorf("%d integrations, want 17", n)
	}
}
