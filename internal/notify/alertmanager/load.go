package alertmanager

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"
	amreceiver "github.com/prometheus/alertmanager/config/receiver"
	amnotify "github.com/prometheus/alertmanager/notify"
	amtemplate "github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"gopkg.in/yaml.v2"
	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// Config is what a sender through an Alertmanager receiver needs.
type Config struct {
	// Receiver is one Alertmanager receiver block in YAML, as under
	// `receivers:` in alertmanager.yml (name optional; ignored).
	Receiver []byte
	// ExternalURL is Klaxon's public URL (the templates' .ExternalURL); a
	// placeholder such as http://klaxon.invalid when unset.
	ExternalURL string
	// Logger receives the notifiers' own logs; nil discards them.
	Logger *slog.Logger
	// Egress decides where the notifiers connect; nil applies the
	// built-in refusals only.
	Egress *egress.Policy
	// AllowEmail accepts email_configs, which a channel's block may not
	// hold: Alertmanager's email notifier dials its smarthost itself, past
	// the egress policy. Only for a block the operator's administrator
	// mounts (the fallback page), trusted as the operator's flags are.
	AllowEmail bool
}

const (
	// MaxReceiverBytes bounds a receiver block.
	MaxReceiverBytes = 64 << 10
	// receiverName is the receiver's name in the wrapping configuration,
	// the templates' .Receiver.
	receiverName = "klaxon"
	// placeholderURL stands in for an unset ExternalURL: some notifiers
	// dereference it.
	placeholderURL      = "http://klaxon.invalid"
	maxExternalURLBytes = 2048
)

// New checks a receiver block with Alertmanager's own
// configuration loader and builds its integrations with Alertmanager's own
// builder. Errors are sentences fit for a condition message.
func New(c Config) (notify.Sender, error) {
	rcv, values, err := loadReceiverSafely(c.Receiver)
	if err != nil {
		return nil, boundError(err, values)
	}
	defaults, err := defaultTrees()
	if err != nil {
		return nil, err
	}
	ins := &inspection{tmpl: tmplbudget.Static{Defaults: defaults}, allowEmail: c.AllowEmail}
	if err = ins.inspect(rcv); err != nil {
		return nil, boundError(err, values)
	}
	ext, err := externalURL(c.ExternalURL)
	if err != nil {
		return nil, boundError(err, nil)
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
	s := &sender{secrets: ins.secrets, clock: clock.RealClock{}, dialer: guardedDial(c.Egress)}
	built, err := buildIntegrations(rcv, tmpl, logger,
		commoncfg.WithDialContextFunc(s.dial),
		// Every request gets a connection of its own, so the deadline and
		// the read limit set at dial time bound that request alone.
		commoncfg.WithKeepAlivesDisabled(),
	)
	if err != nil {
		return nil, boundError(err, ins.secrets)
	}
	if len(built) == 0 {
		return nil, errors.New("the receiver block has no integration: add one of its *_configs lists, such as msteamsv2_configs or telegram_configs")
	}
	for _, in := range built {
		s.integrations = append(s.integrations, &integration{Integration: in, busy: make(chan struct{}, 1)})
	}
	return s, nil
}

// loadReceiverSafely is loadReceiver, made safe
// against Alertmanager's loader panicking on a block it did not expect
// (an empty list entry such as "msteams_configs: [null]" dereferences nil
// in config.Load).
func loadReceiverSafely(block []byte) (rcv *amconfig.Receiver, values []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			rcv, err = nil, fmt.Errorf("the receiver block does not load: Alertmanager's loader failed on it (%v); check for empty entries", p)
		}
	}()
	return loadReceiver(block)
}

// loadReceiver decodes a receiver block twice: alone and
// strictly, so that errors point at the block's own lines; then wrapped in
// a minimal configuration routed to it and loaded by config.Load, so global
// defaults, secret handling and validation are Alertmanager's. It returns
// the block's scalar values too, to keep them out of error text.
func loadReceiver(block []byte) (*amconfig.Receiver, []string, error) {
	if len(block) > MaxReceiverBytes {
		return nil, nil, fmt.Errorf("the receiver block is %d bytes, more than the %d allowed", len(block), MaxReceiverBytes)
	}
	if strings.TrimSpace(string(block)) == "" {
		return nil, nil, errors.New("the receiver block is empty")
	}
	var raw any
	if err := yaml.Unmarshal(block, &raw); err != nil {
		return nil, nil, fmt.Errorf("the receiver block is not valid YAML: %w", cleanYAMLError(err))
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
		return nil, nil, fmt.Errorf("the receiver block is not valid YAML: %w", cleanYAMLError(err))
	}
	// Values shorter than yaml.v2's quotes of them (seven bytes) would
	// match ordinary words of the messages.
	var values []string
	for _, v := range yamlScalars(doc, nil) {
		if len(v) >= 8 {
			values = append(values, v)
		}
	}

	// Receiver's own UnmarshalYAML insists on a name; the plain type does
	// not, and still runs the integrations' checks.
	type plainReceiver amconfig.Receiver
	var probe plainReceiver
	if err := yaml.UnmarshalStrict(block, &probe); err != nil {
		return nil, values, fmt.Errorf("the receiver block does not load: %w", cleanYAMLError(err))
	}

	named := yaml.MapSlice{{Key: "name", Value: receiverName}}
	for _, item := range doc {
		if item.Key != "name" {
			named = append(named, item)
		}
	}
	full, err := yaml.Marshal(yaml.MapSlice{
		{Key: "route", Value: yaml.MapSlice{{Key: "receiver", Value: receiverName}}},
		{Key: "receivers", Value: []any{named}},
	})
	if err != nil {
		return nil, values, fmt.Errorf("the receiver block cannot be wrapped into a configuration: %w", err)
	}
	cfg, err := amconfig.Load(string(full))
	if err != nil {
		return nil, values, fmt.Errorf("the receiver block does not load: %w", cleanYAMLError(err))
	}
	if len(cfg.Receivers) != 1 {
		return nil, values, fmt.Errorf("the receiver block loads as %d receivers, not one", len(cfg.Receivers))
	}
	return &cfg.Receivers[0], values, nil
}

// cleanYAMLError drops the Go type names yaml.v2 puts in its messages
// ("in type config.plain"), which mean nothing to a channel's author, and
// its line breaks.
func cleanYAMLError(err error) error {
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
	return &boundedError{msg: msg, err: err}
}

// yamlScalars collects the string values of a decoded YAML document.
func yamlScalars(v any, out []string) []string {
	switch v := v.(type) {
	case yaml.MapSlice:
		for _, item := range v {
			out = yamlScalars(item.Value, out)
		}
	case map[any]any:
		for _, item := range v {
			out = yamlScalars(item, out)
		}
	case []any:
		for _, item := range v {
			out = yamlScalars(item, out)
		}
	case string:
		out = append(out, v)
	}
	return out
}

// buildIntegrations runs Alertmanager's builder, which must not
// crash the operator whatever the block says.
func buildIntegrations(rcv *amconfig.Receiver, tmpl *amtemplate.Template, logger *slog.Logger, opts ...commoncfg.HTTPClientOption) (built []amnotify.Integration, err error) {
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

func externalURL(s string) (*url.URL, error) {
	if s == "" {
		s = placeholderURL
	}
	if len(s) > maxExternalURLBytes {
		return nil, fmt.Errorf("the external URL is longer than %d bytes", maxExternalURLBytes)
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
