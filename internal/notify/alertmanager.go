package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/asset"
	amconfig "github.com/prometheus/alertmanager/config"
	amreceiver "github.com/prometheus/alertmanager/config/receiver"
	amnotify "github.com/prometheus/alertmanager/notify"
	amtemplate "github.com/prometheus/alertmanager/template"
	amtypes "github.com/prometheus/alertmanager/types"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v2"
	"k8s.io/utils/clock"
)

// AlertmanagerConfig is what an Alertmanager receiver sender needs.
type AlertmanagerConfig struct {
	// Receiver is one Alertmanager receiver block in YAML, as under
	// `receivers:` in alertmanager.yml (name optional; ignored).
	Receiver []byte
	// ExternalURL is Klaxon's public URL (the templates' .ExternalURL); a
	// placeholder such as http://klaxon.invalid when unset.
	ExternalURL string
	// Logger receives the notifiers' own logs; nil discards them.
	Logger *slog.Logger
}

const (
	// MaxAlertmanagerReceiverBytes bounds a receiver block.
	MaxAlertmanagerReceiverBytes = 64 << 10
	// amMaxErrorBytes bounds the text of an error, which ends up in a status
	// (MaxNotificationErrorLength).
	amMaxErrorBytes = 512
	// amReceiverName is the receiver's name in the wrapping configuration,
	// the templates' .Receiver.
	amReceiverName = "klaxon"
	// amPlaceholderURL stands in for an unset ExternalURL: some notifiers
	// dereference it.
	amPlaceholderURL      = "http://klaxon.invalid"
	amMaxExternalURLBytes = 2048
	// amRepeatInterval fills the context like Alertmanager's dispatcher
	// does; no notifier of v0.31 reads it, but a later one may.
	amRepeatInterval = 4 * time.Hour
	// amMaxResponseBytes bounds what one connection of a notifier may read:
	// Alertmanager's retrier copies a whole error body into memory.
	amMaxResponseBytes = 4 << 20
	// amMinRedacted: shorter values are not looked for in error text,
	// where they would match ordinary words.
	amMinRedacted = 4
)

// alertmanagerSender delivers pages through the integrations of one
// Alertmanager receiver.
type alertmanagerSender struct {
	integrations []*amIntegration
	// secrets are the block's secret values, cut out of error text.
	secrets []string
	clock   clock.PassiveClock
}

// amIntegration is one notifier of the receiver. busy lets one Notify run
// at a time: notifiers are not all safe for concurrent use (Telegram's sets
// its token on a shared client), and a Notify that ignores its context
// must not pile up goroutines.
type amIntegration struct {
	amnotify.Integration
	busy chan struct{}
}

// NewAlertmanager checks a receiver block with Alertmanager's own
// configuration loader and builds its integrations with Alertmanager's own
// builder. Errors are sentences fit for a condition message.
func NewAlertmanager(c AlertmanagerConfig) (Sender, error) {
	rcv, values, err := loadAlertmanagerReceiverSafely(c.Receiver)
	if err != nil {
		return nil, amBoundError(err, values)
	}
	ins := &amInspection{}
	if err = ins.inspect(rcv); err != nil {
		return nil, amBoundError(err, values)
	}
	ext, err := amExternalURL(c.ExternalURL)
	if err != nil {
		return nil, amBoundError(err, nil)
	}
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		return nil, fmt.Errorf("loading Alertmanager's default templates: %w", err)
	}
	// Notifiers build links from it; nil panics in some of them.
	tmpl.ExternalURL = ext

	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &alertmanagerSender{secrets: ins.secrets, clock: clock.RealClock{}}
	built, err := buildAlertmanagerIntegrations(rcv, tmpl, logger,
		commoncfg.WithDialContextFunc(s.dial),
		// Every request gets a connection of its own, so the deadline and
		// the read limit set at dial time bound that request alone.
		commoncfg.WithKeepAlivesDisabled(),
	)
	if err != nil {
		return nil, amBoundError(err, ins.secrets)
	}
	if len(built) == 0 {
		return nil, errors.New("the receiver block has no integration: add one of its *_configs lists, such as msteamsv2_configs or telegram_configs")
	}
	for _, in := range built {
		s.integrations = append(s.integrations, &amIntegration{Integration: in, busy: make(chan struct{}, 1)})
	}
	return s, nil
}

// loadAlertmanagerReceiverSafely is loadAlertmanagerReceiver, made safe
// against Alertmanager's loader panicking on a block it did not expect
// (an empty list entry such as "msteams_configs: [null]" dereferences nil
// in config.Load).
func loadAlertmanagerReceiverSafely(block []byte) (rcv *amconfig.Receiver, values []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			rcv, err = nil, fmt.Errorf("the receiver block does not load: Alertmanager's loader failed on it (%v); check for empty entries", p)
		}
	}()
	return loadAlertmanagerReceiver(block)
}

// loadAlertmanagerReceiver decodes a receiver block twice: alone and
// strictly, so that errors point at the block's own lines; then wrapped in
// a minimal configuration routed to it and loaded by config.Load, so global
// defaults, secret handling and validation are Alertmanager's. It returns
// the block's scalar values too, to keep them out of error text.
func loadAlertmanagerReceiver(block []byte) (*amconfig.Receiver, []string, error) {
	if len(block) > MaxAlertmanagerReceiverBytes {
		return nil, nil, fmt.Errorf("the receiver block is %d bytes, more than the %d allowed", len(block), MaxAlertmanagerReceiverBytes)
	}
	if strings.TrimSpace(string(block)) == "" {
		return nil, nil, errors.New("the receiver block is empty")
	}
	var raw any
	if err := yaml.Unmarshal(block, &raw); err != nil {
		return nil, nil, fmt.Errorf("the receiver block is not valid YAML: %w", amCleanYAMLError(err))
	}
	settings, ok := raw.(map[any]any)
	if !ok {
		return nil, nil, errors.New("the receiver block is not a YAML mapping of settings, such as telegram_configs: [...]")
	}
	for key, v := range settings {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		for i, entry := range list {
			if entry == nil {
				return nil, nil, fmt.Errorf("the receiver block does not load: entry %d of %v is empty", i, key)
			}
		}
	}
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(block, &doc); err != nil {
		return nil, nil, fmt.Errorf("the receiver block is not valid YAML: %w", amCleanYAMLError(err))
	}
	// Values shorter than yaml.v2's quotes of them (seven bytes) would
	// match ordinary words of the messages.
	var values []string
	for _, v := range amYAMLScalars(doc, nil) {
		if len(v) >= 8 {
			values = append(values, v)
		}
	}

	// Receiver's own UnmarshalYAML insists on a name; the plain type does
	// not, and still runs the integrations' checks.
	type plainReceiver amconfig.Receiver
	var probe plainReceiver
	if err := yaml.UnmarshalStrict(block, &probe); err != nil {
		return nil, values, fmt.Errorf("the receiver block does not load: %w", amCleanYAMLError(err))
	}

	named := yaml.MapSlice{{Key: "name", Value: amReceiverName}}
	for _, item := range doc {
		if item.Key != "name" {
			named = append(named, item)
		}
	}
	full, err := yaml.Marshal(yaml.MapSlice{
		{Key: "route", Value: yaml.MapSlice{{Key: "receiver", Value: amReceiverName}}},
		{Key: "receivers", Value: []any{named}},
	})
	if err != nil {
		return nil, values, fmt.Errorf("the receiver block cannot be wrapped into a configuration: %w", err)
	}
	cfg, err := amconfig.Load(string(full))
	if err != nil {
		return nil, values, fmt.Errorf("the receiver block does not load: %w", amCleanYAMLError(err))
	}
	if len(cfg.Receivers) != 1 {
		return nil, values, fmt.Errorf("the receiver block loads as %d receivers, not one", len(cfg.Receivers))
	}
	return &cfg.Receivers[0], values, nil
}

// amCleanYAMLError drops the Go type names yaml.v2 puts in its messages
// ("in type config.plain"), which mean nothing to a channel's author, and
// its line breaks.
func amCleanYAMLError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	for {
		i := strings.Index(msg, " in type ")
		if i < 0 {
			break
		}
		j := i + len(" in type ")
		for j < len(msg) && msg[j] != ';' && msg[j] != '\n' && msg[j] != ' ' {
			j++
		}
		msg = msg[:i] + msg[j:]
	}
	return &amBoundedError{msg: msg, err: err}
}

// amYAMLScalars collects the string values of a decoded YAML document.
func amYAMLScalars(v any, out []string) []string {
	switch v := v.(type) {
	case yaml.MapSlice:
		for _, item := range v {
			out = amYAMLScalars(item.Value, out)
		}
	case map[any]any:
		for _, item := range v {
			out = amYAMLScalars(item, out)
		}
	case []any:
		for _, item := range v {
			out = amYAMLScalars(item, out)
		}
	case string:
		out = append(out, v)
	}
	return out
}

// buildAlertmanagerIntegrations runs Alertmanager's builder, which must not
// crash the operator whatever the block says.
func buildAlertmanagerIntegrations(rcv *amconfig.Receiver, tmpl *amtemplate.Template, logger *slog.Logger, opts ...commoncfg.HTTPClientOption) (built []amnotify.Integration, err error) {
	defer func() {
		if p := recover(); p != nil {
			built, err = nil, fmt.Errorf("the receiver block's integrations cannot be built: Alertmanager panicked: %v", p)
		}
	}()
	built, err = amreceiver.BuildReceiverIntegrations(*rcv, tmpl, logger, opts...)
	if err != nil {
		return nil, fmt.Errorf("the receiver block's integrations cannot be built: %w", err)
	}
	return built, nil
}

func amExternalURL(s string) (*url.URL, error) {
	if s == "" {
		s = amPlaceholderURL
	}
	if len(s) > amMaxExternalURLBytes {
		return nil, fmt.Errorf("the external URL is longer than %d bytes", amMaxExternalURLBytes)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("the external URL does not parse: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the external URL %q is not an absolute http or https URL", s)
	}
	return u, nil
}

// amInspection walks a loaded receiver: it refuses settings that read the
// operator's files or use its cloud identity, collects secret values, and
// checks every template string.
type amInspection struct {
	secrets []string
	tmpl    amTemplateBudget
}

var (
	amSecretType            = reflect.TypeFor[amconfig.Secret]()
	amSecretTemplateURLType = reflect.TypeFor[amconfig.SecretTemplateURL]()
	amCommonSecretType      = reflect.TypeFor[commoncfg.Secret]()
	amHTTPClientConfigType  = reflect.TypeFor[commoncfg.HTTPClientConfig]()
)

func (ins *amInspection) inspect(rcv *amconfig.Receiver) error {
	if err := ins.walk(reflect.ValueOf(rcv), "", 0, false); err != nil {
		return err
	}
	for i, c := range rcv.SNSConfigs {
		// Without keys of its own the AWS SDK falls back on the operator's
		// credentials (environment, web identity token, instance role), and a
		// profile is read from the operator's AWS files.
		if c.Sigv4.Profile != "" {
			return fmt.Errorf("sns_configs[%d].sigv4.profile reads the operator's AWS files; give access_key and secret_key instead", i)
		}
		if c.Sigv4.AccessKey == "" || c.Sigv4.SecretKey == "" {
			return fmt.Errorf("sns_configs[%d].sigv4 needs access_key and secret_key: without them the operator's own AWS credentials would be used", i)
		}
	}
	return nil
}

// walk visits every exported field by its YAML name. Fields named *_file
// (bot_token_file, credentials_file, ca_file, ...) and http_config header
// `files` make a notifier read a path on the operator's disk, such as its
// service account token: a channel's author must not choose that.
// Reflection over the loaded configuration finds them in every integration
// and nested block, those of future Alertmanager versions included.
//
// Strings under a free-form map (PagerDuty details, Jira fields) are run
// as templates again after a YAML parse of their output: freeForm marks
// them for amCheckRerun.
func (ins *amInspection) walk(v reflect.Value, path string, depth int, freeForm bool) error {
	if depth > amMaxDepth {
		return fmt.Errorf("%s nests deeper than %d levels", path, amMaxDepth)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if su, ok := v.Interface().(*amconfig.SecretURL); ok {
			if su.URL != nil {
				ins.addSecret(su.String())
				// Errors may quote parts of it: a webhook's signature.
				ins.addSecret(su.Path)
				ins.addSecret(su.RawQuery)
			}
			return nil
		}
		return ins.walk(v.Elem(), path, depth+1, freeForm)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fieldPath := path
			if name != "" {
				fieldPath = amJoinPath(path, name)
			}
			fv := v.Field(i)
			if (strings.HasSuffix(name, "_file") || name == "files") && !fv.IsZero() {
				return fmt.Errorf("%s reads a file from the operator's disk, which a channel may not do; put the value itself in the block", fieldPath)
			}
			// Notifiers dereference their HTTP settings; Load fills them
			// from the global ones, this is a second guard.
			if f.Type == reflect.PointerTo(amHTTPClientConfigType) && fv.IsNil() && fv.CanSet() {
				def := commoncfg.DefaultHTTPClientConfig
				fv.Set(reflect.ValueOf(&def))
			}
			if err := ins.walk(fv, fieldPath, depth+1, freeForm); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := ins.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1, freeForm); err != nil {
				return err
			}
		}
	case reflect.Map:
		free := freeForm || v.Type().Elem().Kind() == reflect.Interface
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if err := ins.walk(iter.Value(), amJoinPath(path, key), depth+1, free); err != nil {
				return err
			}
		}
	case reflect.String:
		s := v.String()
		switch v.Type() {
		case amSecretType, amSecretTemplateURLType, amCommonSecretType:
			ins.addSecret(s)
		}
		if freeForm {
			if err := amCheckRerun(s, 0); err != nil {
				return fmt.Errorf("the value of %s is refused: %w", path, err)
			}
		}
		if strings.Contains(s, "{{") {
			if err := ins.tmpl.check(s); err != nil {
				return fmt.Errorf("the template in %s is refused: %w", path, err)
			}
		}
	default:
	}
	return nil
}

// amMaxDepth bounds the nesting of a block, which the checks walk whole.
const amMaxDepth = 64

// amRerunPipes may follow a field in a template that Alertmanager runs
// again: none of them makes "{{" or a backslash out of a value without.
var amRerunPipes = []string{"toJson", "len", "toUpper", "toLower", "title", "trimSpace"}

// amCheckRerun checks a string whose output Alertmanager parses as YAML and
// runs again (DeepCopyWithTemplate). The output must not spell a template
// that the static check never saw. With the page's values free of "{{",
// backslashes and tags (amDataValue), it is enough that the string has no
// backslash (no YAML escape can spell a brace) and is either a literal whose
// YAML strings are checked the same way, or text without "{" or "!" (no
// !!binary tag before a value) between actions that print one value of the
// data, at most piped into amRerunPipes, and are never side by side (two
// values could end and start with "{").
func amCheckRerun(s string, depth int) error {
	if strings.Contains(s, `\`) {
		return errors.New("it holds a backslash, which Alertmanager's YAML parse of the output could turn into a template")
	}
	if !strings.Contains(s, "{{") {
		// Alertmanager parses the literal as YAML and, when it is a list or
		// a map, goes on with the strings it holds.
		var inner any
		if err := yaml.Unmarshal([]byte(s), &inner); err != nil || depth >= amMaxDepth {
			return nil //nolint:nilerr // What does not parse stays a plain string.
		}
		switch inner.(type) {
		case map[any]any, []any:
		default:
			return nil
		}
		for _, v := range amYAMLScalars(inner, nil) {
			if err := amCheckRerun(v, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	set, err := parse.Parse("", s, "", "", amParseFuncs)
	if err != nil {
		return nil //nolint:nilerr // Alertmanager fails to parse it too, and runs nothing.
	}
	const rule = "its output is run again as a template by Alertmanager, so it may hold only text without \"{\" or \"!\" and, apart, actions such as {{ .CommonAnnotations.summary }} or {{ .Alerts.Firing | toJson }}"
	root := set[""]
	if len(set) != 1 || root == nil {
		return errors.New(rule)
	}
	afterAction := false
	for _, n := range root.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if strings.ContainsAny(string(n.Text), "{!") {
				return errors.New(rule)
			}
			if len(n.Text) > 0 {
				afterAction = false
			}
		case *parse.ActionNode:
			if afterAction || !amRerunPipe(n.Pipe) {
				return errors.New(rule)
			}
			afterAction = true
		case *parse.CommentNode:
		default:
			return errors.New(rule)
		}
	}
	return nil
}

func amRerunPipe(p *parse.PipeNode) bool {
	if len(p.Decl) > 0 || len(p.Cmds) == 0 {
		return false
	}
	for i, cmd := range p.Cmds {
		if len(cmd.Args) != 1 {
			return false
		}
		switch a := cmd.Args[0].(type) {
		case *parse.FieldNode, *parse.DotNode:
			if i > 0 {
				return false
			}
		case *parse.VariableNode:
			if i > 0 || a.Ident[0] != "$" {
				return false
			}
		case *parse.IdentifierNode:
			if i == 0 || !slices.Contains(amRerunPipes, a.Ident) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (ins *amInspection) addSecret(s string) {
	if len(s) < amMinRedacted {
		return
	}
	ins.secrets = append(ins.secrets, s)
	// Secrets show up in URLs, escaped.
	for _, e := range []string{url.PathEscape(s), url.QueryEscape(s)} {
		if e != s {
			ins.secrets = append(ins.secrets, e)
		}
	}
}

func amJoinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Send synthesises one alert from the message and has every integration of
// the receiver notify it, in parallel, within ctx.
func (s *alertmanagerSender) Send(ctx context.Context, m *Message) (string, error) {
	if m == nil {
		return "", Permanent(errors.New("no message to send"))
	}
	now := m.SentAt
	if now.IsZero() {
		now = s.clock.Now()
	}
	alert := amPageAlert(m, now)

	// The context Alertmanager's dispatcher and pipeline would have set:
	// notifiers fail without a group key and log without the rest.
	ctx = amnotify.WithGroupKey(ctx, amGroupKey(m))
	ctx = amnotify.WithReceiverName(ctx, amReceiverName)
	ctx = amnotify.WithGroupLabels(ctx, model.LabelSet{
		"namespace": alert.Labels["namespace"],
		"incident":  alert.Labels["incident"],
	})
	ctx = amnotify.WithNow(ctx, now)
	ctx = amnotify.WithRepeatInterval(ctx, amRepeatInterval)
	ctx = amnotify.WithMuteTimeIntervals(ctx, nil)
	ctx = amnotify.WithActiveTimeIntervals(ctx, nil)

	results := make(chan amResult, len(s.integrations))
	for _, in := range s.integrations {
		go func() { results <- in.notify(ctx, alert) }()
	}
	var failed []amResult
	for pending := len(s.integrations); pending > 0; {
		select {
		case r := <-results:
			pending--
			if r.err != nil {
				failed = append(failed, r)
			}
		case <-ctx.Done():
			failed = append(failed, amResult{
				name:  fmt.Sprintf("%d of %d integrations", pending, len(s.integrations)),
				err:   fmt.Errorf("did not finish in time: %w", ctx.Err()),
				retry: true,
			})
			pending = 0
		}
	}
	if len(failed) == 0 {
		return "", nil
	}
	return "", s.sendError(failed)
}

type amResult struct {
	name  string
	err   error
	retry bool
}

// notify runs the notifier and turns a panic into a permanent error: a
// hostile configuration must not crash the operator.
func (in *amIntegration) notify(ctx context.Context, alert *amtypes.Alert) (r amResult) {
	r.name = in.String()
	select {
	case in.busy <- struct{}{}:
	case <-ctx.Done():
		return amResult{name: r.name, err: fmt.Errorf("an earlier send through it is still running: %w", ctx.Err()), retry: true}
	}
	defer func() { <-in.busy }()
	defer func() {
		if p := recover(); p != nil {
			r.err, r.retry = fmt.Errorf("the notifier panicked: %v", p), false
		}
	}()
	r.retry, r.err = in.Notify(ctx, alert)
	return r
}

// sendError joins the failures; the page is worth retrying unless every
// failure is permanent. A retry sends through every integration again.
func (s *alertmanagerSender) sendError(failed []amResult) error {
	errs := make([]error, 0, len(failed))
	msgs := make([]string, 0, len(failed))
	permanent := true
	for _, r := range failed {
		errs = append(errs, r.err)
		msgs = append(msgs, r.name+": "+r.err.Error())
		permanent = permanent && !r.retry
	}
	err := amBoundError(&amJoinedError{msg: "alertmanager " + strings.Join(msgs, "; "), errs: errs}, s.secrets)
	if permanent {
		return Permanent(err)
	}
	return err
}

type amJoinedError struct {
	msg  string
	errs []error
}

func (e *amJoinedError) Error() string   { return e.msg }
func (e *amJoinedError) Unwrap() []error { return e.errs }

// amBoundedError is an error whose text has secrets cut out and is short
// enough for a status; it still unwraps to the original.
type amBoundedError struct {
	msg string
	err error
}

func (e *amBoundedError) Error() string { return e.msg }
func (e *amBoundedError) Unwrap() error { return e.err }

func amBoundError(err error, secrets []string) error {
	msg := err.Error()
	// Longest first, so a secret containing another is cut whole.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= amMinRedacted {
			msg = strings.ReplaceAll(msg, s, "<redacted>")
		}
	}
	return &amBoundedError{msg: amTruncate(msg, amMaxErrorBytes), err: err}
}

// amTruncate cuts s to at most n bytes on a rune boundary, marking the
// cut with an ellipsis.
func amTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// Bounds on the alert's values. The template check counts on them
// (amLeafBound, amDataBound): keep them in step.
const (
	maxAMLabelValue  = 256
	maxAMSummary     = 1024
	maxAMDescription = 4096
	maxAMURL         = 2048
)

// amDataValue makes a string of the page fit for the alert: it cannot be
// run as a template, and is cut to n bytes.
//
// Alertmanager's PagerDuty details and Jira fields (DeepCopyWithTemplate)
// parse a template's output as YAML and run every string found in it as a
// template again, at any depth: with the default PagerDuty details, an
// incident titled {{ range 1000000000 }}... would run. So no value holds
// "{{" (a space splits the braces), nor what YAML decodes into other text:
// a backslash (escapes such as \x7b) or a "!" that may start a tag
// (!!binary holds base64). Look-alikes stand in for those two.
func amDataValue(s string, n int) string {
	var b strings.Builder
	prev := ' '
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteRune('⧵')
		case r == '!' && !unicode.IsLetter(prev) && !unicode.IsDigit(prev):
			b.WriteRune('ǃ')
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	s = b.String()
	for strings.Contains(s, "{{") {
		s = strings.ReplaceAll(s, "{{", "{ {")
	}
	return amTruncate(s, n)
}

// amPageAlert is the one alert a page becomes.
func amPageAlert(m *Message, now time.Time) *amtypes.Alert {
	inc, page := &m.Incident, &m.Page
	labels := model.LabelSet{"alertname": "KlaxonPage"}
	set := func(name model.LabelName, value string) {
		if value != "" {
			labels[name] = model.LabelValue(amDataValue(value, maxAMLabelValue))
		}
	}
	set("severity", inc.Severity)
	set("namespace", inc.Namespace)
	set("incident", inc.Name)
	set("service", inc.Service)
	set("responder", page.Responder)
	set("address", m.Address)
	set("level", strconv.Itoa(int(page.Level)))

	annotations := model.LabelSet{
		"summary":     model.LabelValue(amDataValue(inc.Title, maxAMSummary)),
		"description": model.LabelValue(amDataValue(amPageDescription(m), maxAMDescription)),
	}
	if page.AcknowledgeURL != "" {
		annotations["acknowledge_url"] = model.LabelValue(amDataValue(page.AcknowledgeURL, maxAMURL))
	}
	startsAt := inc.TriggeredAt
	if startsAt.IsZero() {
		startsAt = now
	}
	return &amtypes.Alert{
		Alert: model.Alert{
			Labels:       labels,
			Annotations:  annotations,
			StartsAt:     startsAt,
			GeneratorURL: amDataValue(inc.URL, maxAMURL),
		},
		UpdatedAt: now,
	}
}

// amPageDescription says the impact, who is paged and where the incident is.
func amPageDescription(m *Message) string {
	var b strings.Builder
	if m.Incident.Impact != "" {
		b.WriteString(m.Incident.Impact)
		b.WriteString("\n\n")
	}
	paged := m.Page.Paged
	if len(paged) == 0 && m.Page.Responder != "" {
		paged = []string{m.Page.Responder}
	}
	who := strings.Join(paged, ", ")
	if m.Page.DisplayName != "" && m.Page.DisplayName != m.Page.Responder {
		who = m.Page.DisplayName + " (" + who + ")"
	}
	if who != "" {
		fmt.Fprintf(&b, "Paged at level %d: %s.\n", m.Page.Level, who)
	} else {
		fmt.Fprintf(&b, "Paged at level %d.\n", m.Page.Level)
	}
	if m.Incident.URL != "" {
		fmt.Fprintf(&b, "Incident: %s\n", m.Incident.URL)
	}
	return strings.TrimSpace(b.String())
}

// amGroupKey names the page for the notifiers that deduplicate on it
// (PagerDuty's dedup_key, Opsgenie's alias, ...): one key per page, so a
// retried page stays one upstream alert while the next level or round is a
// new one and is delivered rather than folded into an open alert.
func amGroupKey(m *Message) string {
	cut := func(s string) string { return amTruncate(s, maxAMLabelValue) }
	return fmt.Sprintf("{}/klaxon:{namespace=%q, incident=%q, uid=%q, episode=\"%d\", level=\"%d\", round=\"%d\", responder=%q, address=%q}",
		cut(m.Incident.Namespace), cut(m.Incident.Name), cut(m.Incident.UID), m.Incident.Episode, m.Page.Level, m.Page.Round,
		cut(m.Page.Responder), cut(m.Address))
}

// dial gives every connection of the notifiers a deadline and a read limit.
// Not every notifier passes its context on (Telegram's client does not),
// and the HTTP client has no timeout of its own.
func (s *alertmanagerSender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: SendTimeout}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(s.clock.Now().Add(SendTimeout)); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("setting a deadline on the connection to %s: %w", addr, err)
	}
	return &amCappedConn{Conn: conn, left: amMaxResponseBytes}, nil
}

var errAMResponseTooLarge = fmt.Errorf("the server sent more than %d bytes", amMaxResponseBytes)

// amCappedConn fails reads beyond a budget.
type amCappedConn struct {
	net.Conn
	left int64
}

func (c *amCappedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errAMResponseTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// The template bound.
//
// A receiver's template strings are Go templates that Alertmanager runs
// over our one alert, and Go cannot stop a running template: a loop such as
// {{range 1000000000}} or {{range .StartsAt.UnixNano}}, a string doubled
// forty times through variables, a printf width of a million per verb or a
// template that calls itself would take the operator's CPU or memory. So
// NewAlertmanager parses every string of the loaded block that contains
// "{{" (with text/template/parse and Alertmanager's functions, as
// Alertmanager will) and refuses it unless it is bounded:
//
//   - define and block are refused (no recursion, no redefined defaults);
//     template may call only Alertmanager's default templates, which are
//     checked by the same rules;
//   - range may go only over a list of the alert's data, known by its Go
//     type: the alerts (one), or labels, annotations, their pairs, names or
//     values (at most amMaxKV), or a stringSlice of n values; never over a
//     number, a string, bytes, or anything of unknown type;
//   - a variable may be assigned (=) only a literal or a field of the data,
//     never a value computed from variables, so nothing grows from one
//     iteration to the next; range refuses assigned variables;
//   - call is refused; printf and the regular expressions of match and
//     reReplaceAll must be literals;
//   - every value and output gets a size bound from the data's bounds
//     (amPageAlert cuts every string) and each function's worst case (printf
//     widths, reReplaceAll expansions, escaping), multiplied by the
//     iterations of the ranges around it; the sum must stay under
//     amMaxTemplateCost per string and amMaxBlockTemplateCost for the block.
//
// The bound is coarse (a label value counts as 4 KiB) but it is a bound:
// what passes runs in milliseconds; Alertmanager's default templates pass
// with room to spare (the largest, email.default.html, counts 1.1 MiB).
//
// One more path runs templates: PagerDuty details and Jira fields run the
// strings of their output again (amCheckRerun, amDataValue), so neither
// the block nor a page's text may make that output spell a template.
const (
	amMaxAlerts            = 1
	amMaxKV                = 16
	amLeafBound            = 4 << 10
	amDataBound            = 32 << 10
	amScalarBound          = 128
	amMaxTemplateCost      = 16 << 20
	amMaxBlockTemplateCost = 64 << 20
	amFmtMaxWidth          = 1e6 // fmt's own cap on widths and precisions
	amSaturation           = 1 << 50
)

var (
	amDataType     = reflect.TypeFor[*amtemplate.Data]()
	amAlertType    = reflect.TypeFor[amtemplate.Alert]()
	amPairType     = reflect.TypeFor[amtemplate.Pair]()
	amTimeType     = reflect.TypeFor[time.Time]()
	amStringType   = reflect.TypeFor[string]()
	amBoolType     = reflect.TypeFor[bool]()
	amIntType      = reflect.TypeFor[int]()
	amStringsType  = reflect.TypeFor[[]string]()
	amDefaultTrees = sync.OnceValues(parseAMDefaultTemplates)
)

// amParseFuncs are the names a template may call: Alertmanager's functions
// and text/template's builtins. parse needs non-nil values only.
var amParseFuncs = func() map[string]any {
	m := map[string]any{}
	for name, fn := range amtemplate.DefaultFuncs {
		m[name] = fn
	}
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		m[name] = true
	}
	return m
}()

func parseAMDefaultTemplates() (map[string]*parse.Tree, error) {
	trees := map[string]*parse.Tree{}
	for _, name := range []string{"default.tmpl", "email.tmpl"} {
		f, err := asset.Assets.Open("/templates/" + name)
		if err != nil {
			return nil, fmt.Errorf("opening Alertmanager's %s: %w", name, err)
		}
		text, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading Alertmanager's %s: %w", name, err)
		}
		set, err := parse.Parse(name, string(text), "", "", amParseFuncs)
		if err != nil {
			return nil, fmt.Errorf("parsing Alertmanager's %s: %w", name, err)
		}
		for n, t := range set {
			if n != name && n != "" {
				trees[n] = t
			}
		}
	}
	return trees, nil
}

// amTemplateBudget checks template strings and sums their cost.
type amTemplateBudget struct {
	total int64
}

func (b *amTemplateBudget) check(text string) error {
	set, err := parse.Parse("", text, "", "", amParseFuncs)
	if err != nil {
		// Alertmanager parses the same way and fails the same way, at
		// send time, without running anything.
		return nil //nolint:nilerr // A string that does not parse never runs.
	}
	if len(set) != 1 || set[""] == nil {
		return errors.New("it defines templates (define or block); call Alertmanager's own with template instead")
	}
	defaults, err := amDefaultTrees()
	if err != nil {
		return err
	}
	assigns, err := amAssignBounds(set[""].Root)
	if err != nil {
		return err
	}
	data := amVal{typ: amDataType, size: amDataBound, count: -1, data: true}
	c := &amTemplateCheck{defaults: defaults, mult: 1, vars: []amVar{{"$", data}}, assigns: assigns}
	if err := c.list(set[""].Root, data); err != nil {
		return err
	}
	if c.cost > amMaxTemplateCost {
		return fmt.Errorf("it could produce %s, more than the %s allowed; loop less or print less", amSizeText(c.cost), amSizeText(amMaxTemplateCost))
	}
	b.total = amSatAdd(b.total, c.cost)
	if b.total > amMaxBlockTemplateCost {
		return fmt.Errorf("with the block's other templates it could produce %s, more than the %s allowed", amSizeText(b.total), amSizeText(amMaxBlockTemplateCost))
	}
	return nil
}

func amSizeText(n int64) string {
	if n >= amSaturation {
		return "unbounded output"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// amVal is what the check knows of a value: its Go type (nil when
// unknown), a bound on its printed size, a bound on its elements (-1 when
// it is not a bounded list), whether it comes from the alert's data, and
// its text when it is a string literal.
type amVal struct {
	typ   reflect.Type
	size  int64
	count int64
	data  bool
	lit   *string
}

type amVar struct {
	name string
	val  amVal
}

type amTemplateCheck struct {
	defaults map[string]*parse.Tree
	vars     []amVar
	// assigns bounds the variables the current template assigns.
	assigns map[string]int64
	// mult is the number of times the current node may run.
	mult  int64
	cost  int64
	calls []string
}

func (c *amTemplateCheck) add(n int64) { c.cost = amSatAdd(c.cost, amSatMul(n, c.mult)) }

func (c *amTemplateCheck) list(l *parse.ListNode, dot amVal) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := c.node(n, dot); err != nil {
			return err
		}
	}
	return nil
}

func (c *amTemplateCheck) node(n parse.Node, dot amVal) error {
	switch n := n.(type) {
	case *parse.TextNode:
		c.add(int64(len(n.Text)))
	case *parse.ActionNode:
		v, err := c.pipe(n.Pipe, dot, true)
		if err != nil {
			return err
		}
		if len(n.Pipe.Decl) == 0 {
			c.add(v.size)
		}
	case *parse.IfNode:
		return c.branch(&n.BranchNode, dot, false)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, dot, true)
	case *parse.RangeNode:
		return c.rangeNode(n, dot)
	case *parse.TemplateNode:
		return c.template(n, dot)
	case *parse.ListNode:
		return c.list(n, dot)
	case *parse.BreakNode, *parse.ContinueNode, *parse.CommentNode:
	default:
		return fmt.Errorf("it uses %q, which the check does not know", n.String())
	}
	return nil
}

func (c *amTemplateCheck) branch(b *parse.BranchNode, dot amVal, with bool) error {
	mark := len(c.vars)
	defer func() { c.vars = c.vars[:mark] }()
	v, err := c.pipe(b.Pipe, dot, true)
	if err != nil {
		return err
	}
	inner := dot
	if with {
		inner = v
	}
	if err := c.list(b.List, inner); err != nil {
		return err
	}
	return c.list(b.ElseList, dot)
}

func (c *amTemplateCheck) rangeNode(n *parse.RangeNode, dot amVal) error {
	mark := len(c.vars)
	defer func() { c.vars = c.vars[:mark] }()
	v, err := c.pipe(n.Pipe, dot, false)
	if err != nil {
		return err
	}
	if v.count < 0 {
		return fmt.Errorf("it ranges over %q, which is not a list of the alert's data: range over .Alerts, .Labels, .Annotations, their SortedPairs, Names or Values, or a stringSlice", amPipeText(n.Pipe))
	}
	elem := amElemOf(v)
	switch len(n.Pipe.Decl) {
	case 1:
		c.declare(n.Pipe.Decl[0].Ident[0], elem)
	case 2:
		key := amVal{typ: amIntType, size: amScalarBound, count: -1}
		if v.typ != nil && v.typ.Kind() == reflect.Map {
			key = amVal{typ: v.typ.Key(), size: amLeafBound, count: -1, data: true}
		}
		c.declare(n.Pipe.Decl[0].Ident[0], key)
		c.declare(n.Pipe.Decl[1].Ident[0], elem)
	}
	saved := c.mult
	c.mult = amSatMul(c.mult, max(v.count, 1))
	err = c.list(n.List, elem)
	c.mult = saved
	if err != nil {
		return err
	}
	return c.list(n.ElseList, dot)
}

func (c *amTemplateCheck) template(n *parse.TemplateNode, dot amVal) error {
	tree, ok := c.defaults[n.Name]
	if !ok {
		return fmt.Errorf("it calls template %q, which is not one of Alertmanager's default templates", n.Name)
	}
	if slices.Contains(c.calls, n.Name) {
		return fmt.Errorf("template %q calls itself", n.Name)
	}
	arg := amVal{count: -1}
	if n.Pipe != nil {
		v, err := c.pipe(n.Pipe, dot, true)
		if err != nil {
			return err
		}
		arg = v
	}
	assigns, err := amAssignBounds(tree.Root)
	if err != nil {
		return fmt.Errorf("in template %q: %w", n.Name, err)
	}
	// A called template sees only its argument, as $ and as dot.
	savedVars, savedAssigns := c.vars, c.assigns
	c.vars, c.assigns = []amVar{{"$", arg}}, assigns
	c.calls = append(c.calls, n.Name)
	err = c.list(tree.Root, arg)
	c.calls = c.calls[:len(c.calls)-1]
	c.vars, c.assigns = savedVars, savedAssigns
	if err != nil {
		return fmt.Errorf("in template %q: %w", n.Name, err)
	}
	return nil
}

func (c *amTemplateCheck) pipe(p *parse.PipeNode, dot amVal, declare bool) (amVal, error) {
	if p == nil {
		return amVal{count: -1}, nil
	}
	var v amVal
	for i, cmd := range p.Cmds {
		var final *amVal
		if i > 0 {
			final = &v
		}
		next, err := c.command(cmd, dot, final)
		if err != nil {
			return amVal{}, err
		}
		v = next
	}
	if declare && !p.IsAssign {
		for _, d := range p.Decl {
			c.declare(d.Ident[0], v)
		}
	}
	return v, nil
}

// declare adds a variable. One that is assigned somewhere in the template
// may hold any of its values: its bound covers them all, and range refuses
// it, as its type may change.
func (c *amTemplateCheck) declare(name string, v amVal) {
	if bound, ok := c.assigns[name]; ok {
		v = amVal{size: max(v.size, bound), count: -1, data: true}
	}
	c.vars = append(c.vars, amVar{name, v})
}

// amAssignBounds finds the assignments (=) of a template. Each must set a
// literal or a field of the data, never a value computed from variables, so
// nothing grows from one iteration of a range to the next; it returns the
// bound of each assigned variable's values.
func amAssignBounds(root parse.Node) (map[string]int64, error) {
	bounds := map[string]int64{}
	var walk func(n parse.Node) error
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, m := range n.Nodes {
				if err := walk(m); err != nil {
					return err
				}
			}
		case *parse.ActionNode:
			return walk(n.Pipe)
		case *parse.IfNode:
			return amWalkBranch(&n.BranchNode, walk)
		case *parse.WithNode:
			return amWalkBranch(&n.BranchNode, walk)
		case *parse.RangeNode:
			if n.Pipe != nil && n.Pipe.IsAssign {
				return fmt.Errorf("it assigns range variables in %q; declare them with := instead", amPipeText(n.Pipe))
			}
			return amWalkBranch(&n.BranchNode, walk)
		case *parse.TemplateNode:
			if n.Pipe != nil {
				return walk(n.Pipe)
			}
		case *parse.PipeNode:
			if n == nil {
				return nil
			}
			if n.IsAssign {
				bound, err := amAssignedBound(n)
				if err != nil {
					return err
				}
				for _, d := range n.Decl {
					bounds[d.Ident[0]] = max(bounds[d.Ident[0]], bound)
				}
			}
			for _, cmd := range n.Cmds {
				for _, a := range cmd.Args {
					if err := walk(a); err != nil {
						return err
					}
				}
			}
		case *parse.ChainNode:
			return walk(n.Node)
		default:
		}
		return nil
	}
	err := walk(root)
	return bounds, err
}

func amWalkBranch(b *parse.BranchNode, walk func(parse.Node) error) error {
	if b.Pipe != nil {
		if err := walk(b.Pipe); err != nil {
			return err
		}
	}
	if err := walk(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return walk(b.ElseList)
	}
	return nil
}

func amAssignedBound(p *parse.PipeNode) (int64, error) {
	refuse := fmt.Errorf("it assigns %q; a variable may be assigned (=) only a literal or a field of the data", amPipeText(p))
	for _, d := range p.Decl {
		if d.Ident[0] == "$" {
			return 0, refuse
		}
	}
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return 0, refuse
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.StringNode:
		return int64(len(a.Text)), nil
	case *parse.NumberNode:
		return int64(len(a.Text)) + amScalarBound, nil
	case *parse.BoolNode, *parse.NilNode:
		return amScalarBound, nil
	case *parse.DotNode, *parse.FieldNode:
		return amDataBound, nil
	case *parse.VariableNode:
		if a.Ident[0] == "$" {
			return amDataBound, nil
		}
	default:
	}
	return 0, refuse
}

func (c *amTemplateCheck) command(cmd *parse.CommandNode, dot amVal, final *amVal) (amVal, error) {
	args := make([]amVal, 0, len(cmd.Args))
	for _, a := range cmd.Args[1:] {
		v, err := c.arg(a, dot)
		if err != nil {
			return amVal{}, err
		}
		args = append(args, v)
	}
	if final != nil {
		args = append(args, *final)
	}
	switch first := cmd.Args[0].(type) {
	case *parse.IdentifierNode:
		return c.function(first.Ident, args)
	case *parse.FieldNode:
		return c.fields(dot, first.Ident, args), nil
	case *parse.ChainNode:
		base, err := c.arg(first.Node, dot)
		if err != nil {
			return amVal{}, err
		}
		return c.fields(base, first.Field, args), nil
	case *parse.VariableNode:
		base, err := c.variable(first.Ident[0])
		if err != nil {
			return amVal{}, err
		}
		if len(first.Ident) > 1 {
			return c.fields(base, first.Ident[1:], args), nil
		}
		return base, nil
	default:
		return c.arg(first, dot)
	}
}

func (c *amTemplateCheck) arg(n parse.Node, dot amVal) (amVal, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.NilNode:
		return amVal{size: amScalarBound, count: -1}, nil
	case *parse.BoolNode:
		return amVal{typ: amBoolType, size: amScalarBound, count: -1}, nil
	case *parse.NumberNode:
		return amVal{typ: amIntType, size: int64(len(n.Text)) + amScalarBound, count: -1}, nil
	case *parse.StringNode:
		text := n.Text
		return amVal{typ: amStringType, size: int64(len(text)), count: -1, lit: &text}, nil
	case *parse.FieldNode:
		return c.fields(dot, n.Ident, nil), nil
	case *parse.ChainNode:
		base, err := c.arg(n.Node, dot)
		if err != nil {
			return amVal{}, err
		}
		return c.fields(base, n.Field, nil), nil
	case *parse.VariableNode:
		base, err := c.variable(n.Ident[0])
		if err != nil {
			return amVal{}, err
		}
		return c.fields(base, n.Ident[1:], nil), nil
	case *parse.PipeNode:
		return c.pipe(n, dot, true)
	case *parse.IdentifierNode:
		return c.function(n.Ident, nil)
	default:
		return amVal{}, fmt.Errorf("it uses %q, which the check does not know", n.String())
	}
}

func (c *amTemplateCheck) variable(name string) (amVal, error) {
	for i := len(c.vars) - 1; i >= 0; i-- {
		if c.vars[i].name == name {
			return c.vars[i].val, nil
		}
	}
	return amVal{}, fmt.Errorf("it uses the undefined variable %s", name)
}

// fields follows a chain of fields, map keys and methods as text/template
// does: a method first, then a struct field or a map key.
func (c *amTemplateCheck) fields(base amVal, names []string, args []amVal) amVal {
	for i, name := range names {
		var a []amVal
		if i == len(names)-1 {
			a = args
		}
		base = c.access(base, name, a)
	}
	return base
}

func (c *amTemplateCheck) access(base amVal, name string, args []amVal) amVal {
	unknown := amVal{size: max(amDataBound, base.size), count: -1, data: true}
	t := base.typ
	if t == nil {
		return unknown
	}
	if m, ok := amMethodByName(t, name); ok {
		if m.Type.NumOut() == 0 {
			return unknown
		}
		rt := m.Type.Out(0)
		v := amVal{typ: rt, size: amTypeSize(rt, true), count: amTypeCount(rt), data: true}
		if len(args) > 0 {
			// Such as .StartsAt.Format "layout" or .Labels.Remove names.
			v.size = amSatAdd(max(amDataBound, base.size), amSatMul(4, amSumSizes(args)))
			c.add(v.size)
		}
		return v
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var ft reflect.Type
	switch t.Kind() {
	case reflect.Struct:
		if f, ok := t.FieldByName(name); ok && f.IsExported() {
			ft = f.Type
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			ft = t.Elem()
		}
	default:
	}
	if ft == nil {
		return unknown
	}
	return amVal{typ: ft, size: amTypeSize(ft, false), count: amTypeCount(ft), data: true}
}

func amMethodByName(t reflect.Type, name string) (reflect.Method, bool) {
	if m, ok := t.MethodByName(name); ok {
		return m, true
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		return reflect.PointerTo(t).MethodByName(name)
	}
	return reflect.Method{}, false
}

// amTypeSize bounds the printed size of a value of the alert's data. Strings
// stored in the data are cut by amPageAlert; a method returning a string may
// print a whole label set.
func amTypeSize(t reflect.Type, fromMethod bool) int64 {
	switch t.Kind() {
	case reflect.String:
		if fromMethod {
			return amDataBound
		}
		return amLeafBound
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return amScalarBound
	default:
		if t == amTimeType {
			return amScalarBound
		}
		return amDataBound
	}
}

// amTypeCount bounds the elements of a list of the alert's data; -1 for
// anything else, which range refuses.
func amTypeCount(t reflect.Type) int64 {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		switch e := t.Elem(); {
		case e == amAlertType:
			return amMaxAlerts
		case e == amPairType, e.Kind() == reflect.String:
			return amMaxKV
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return amMaxKV
		}
	default:
	}
	return -1
}

func amElemOf(v amVal) amVal {
	if v.typ == nil {
		return amVal{size: v.size, count: -1, data: v.data}
	}
	var et reflect.Type
	switch v.typ.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		et = v.typ.Elem()
	default:
		return amVal{size: v.size, count: -1, data: v.data}
	}
	e := amVal{typ: et, size: v.size, count: -1, data: v.data}
	if v.data {
		e.size = min(v.size, amTypeSize(et, false))
		e.count = amTypeCount(et)
	}
	return e
}

// function bounds a call's result from its arguments (the piped value
// last) and counts its work.
func (c *amTemplateCheck) function(name string, args []amVal) (amVal, error) {
	sum, n := amSumSizes(args), int64(len(args))
	str := func(size int64) amVal { return amVal{typ: amStringType, size: size, count: -1} }
	var v amVal
	switch name {
	case "print":
		v = str(amSatAdd(sum, n))
	case "println":
		v = str(amSatAdd(sum, n+1))
	case "printf":
		if len(args) == 0 || args[0].lit == nil {
			return amVal{}, errors.New("it calls printf with a format that is not a literal string")
		}
		v = str(amPrintfBound(*args[0].lit, args[1:]))
	case "html", "js", "urlquery":
		v = str(amSatMul(6, amSatAdd(sum, n)))
	case "toUpper", "toLower", "title":
		// Case mapping may lengthen a rune's encoding up to threefold.
		v = str(amSatMul(3, sum))
	case "trimSpace", "urlUnescape", "safeHtml", "safeUrl":
		v = str(sum)
	case "toJson":
		v = str(amSatAdd(amSatMul(6, sum), amScalarBound))
	case "date":
		v = str(amSatAdd(amSatMul(4, sum), amScalarBound))
	case "humanizeDuration":
		v = str(amScalarBound)
	case "tz":
		v = amVal{typ: amTimeType, size: amScalarBound, count: -1}
	case "since":
		v = amVal{typ: reflect.TypeFor[time.Duration](), size: amScalarBound, count: -1}
	case "len", "not", "eq", "ne", "lt", "le", "gt", "ge":
		v = amVal{typ: amIntType, size: amScalarBound, count: -1}
		if name != "len" {
			v.typ = amBoolType
		}
	case "join":
		if len(args) != 2 {
			return amVal{}, errors.New("it calls join without a separator and a list")
		}
		list := args[1]
		if list.count < 0 {
			return amVal{}, errors.New("it joins something that is not a list of the alert's data")
		}
		v = str(amSatAdd(list.size, amSatMul(list.count, args[0].size)))
	case "stringSlice":
		v = amVal{typ: amStringsType, size: amSatAdd(sum, n), count: n}
	case "match", "reReplaceAll":
		if len(args) == 0 || args[0].lit == nil {
			return amVal{}, fmt.Errorf("it calls %s with a pattern that is not a literal string", name)
		}
		insts, err := amRegexpInsts(*args[0].lit)
		if err != nil {
			return amVal{}, fmt.Errorf("it calls %s with a pattern that does not compile: %w", name, err)
		}
		// Compiled at every call, then run over the text.
		text := args[len(args)-1].size
		c.add(amSatAdd(amSatMul(text, insts), amSatMul(insts, amScalarBound)))
		if name == "match" {
			v = amVal{typ: amBoolType, size: amScalarBound, count: -1}
			break
		}
		if len(args) != 3 {
			return amVal{}, errors.New("it calls reReplaceAll without a pattern, a replacement and a text")
		}
		// Matches do not overlap: each $ expands to at most the text,
		// and there is at most one match more than the text has bytes.
		repl := args[1].size
		v = str(amSatAdd(amSatMul(text, amSatAdd(1, repl)), amSatMul(amSatAdd(text, 1), repl)))
	case "index":
		if len(args) == 0 {
			return amVal{}, errors.New("it calls index without arguments")
		}
		v = args[0]
		for range args[1:] {
			v = amElemOf(v)
		}
	case "slice":
		if len(args) == 0 {
			return amVal{}, errors.New("it calls slice without arguments")
		}
		v = args[0]
		v.lit = nil
	case "and", "or":
		if len(args) == 0 {
			return amVal{}, fmt.Errorf("it calls %s without arguments", name)
		}
		v = args[0]
		v.lit = nil
		for _, a := range args[1:] {
			if a.typ != v.typ {
				v.typ = nil
			}
			v.size = max(v.size, a.size)
			v.data = v.data || a.data
			if a.count < 0 || v.count < 0 {
				v.count = -1
			} else {
				v.count = max(v.count, a.count)
			}
		}
		if v.typ == nil {
			v.count = -1
		}
	case "call":
		return amVal{}, errors.New("it uses call, which is not allowed")
	default:
		return amVal{}, fmt.Errorf("it calls %s, which the check does not know", name)
	}
	c.add(v.size)
	return v, nil
}

// amPrintfBound bounds fmt.Sprintf's output: each verb prints at most its
// width and precision (fmt caps them at a million) plus an argument,
// escaped; arguments without a verb are printed as %!(EXTRA ...).
func amPrintfBound(format string, args []amVal) int64 {
	var widest int64
	for _, a := range args {
		widest = max(widest, a.size)
	}
	total := amSatAdd(int64(len(format)), amSatAdd(amSumSizes(args), int64(len(args))*amScalarBound))
	number := func(i int) (int64, int) {
		if i < len(format) && format[i] == '*' {
			return amFmtMaxWidth, i + 1
		}
		var n int64
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			n = min(n*10+int64(format[i]-'0'), amFmtMaxWidth)
			i++
		}
		return n, i
	}
	skipIndex := func(i int) int {
		if i < len(format) && format[i] == '[' {
			if j := strings.IndexByte(format[i:], ']'); j >= 0 {
				return i + j + 1
			}
		}
		return i
	}
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		i = skipIndex(i)
		width, j := number(i)
		i = skipIndex(j)
		var prec int64
		if i < len(format) && format[i] == '.' {
			i = skipIndex(i + 1)
			prec, i = number(i)
			i = skipIndex(i)
		}
		if i < len(format) && format[i] == '%' {
			continue
		}
		total = amSatAdd(total, amSatAdd(amSatAdd(width, prec), amSatAdd(amSatMul(6, widest), amScalarBound)))
	}
	return total
}

func amRegexpInsts(pattern string) (int64, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, err
	}
	return int64(len(prog.Inst)), nil
}

func amPipeText(p *parse.PipeNode) string {
	return amTruncate(p.String(), 80)
}

func amSumSizes(vs []amVal) int64 {
	var s int64
	for _, v := range vs {
		s = amSatAdd(s, v.size)
	}
	return s
}

func amSatAdd(a, b int64) int64 {
	if a >= amSaturation-b {
		return amSaturation
	}
	return a + b
}

func amSatMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a >= amSaturation/b {
		return amSaturation
	}
	return a * b
}
