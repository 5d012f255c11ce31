package alertmanager

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"

	amnotify "github.com/prometheus/alertmanager/notify"
	amtypes "github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

const (
	// repeatInterval fills the context like Alertmanager's dispatcher
	// does; no notifier of v0.31 reads it, but a later one may.
	repeatInterval = 4 * time.Hour
	// maxResponseBytes bounds what one connection of a notifier may read:
	// Alertmanager's retrier copies a whole error body into memory.
	maxResponseBytes = 4 << 20
)

// Alertmanager receiver.
type sender struct {
	integrations []*integration
	// secrets are the block's secret values, cut out of error text.
	secrets []string
	clock   clock.PassiveClock
	// dialer connects only where the egress policy allows.
	dialer *egress.Dialer
}

// integration is one notifier of the receiver. busy lets one Notify run
// at a time: notifiers are not all safe for concurrent use (Telegram's sets
// its token on a shared client), and a Notify that ignores its context
// must not pile up goroutines.
type integration struct {
	amnotify.Integration
	busy chan struct{}
}

// Send synthesises one alert from the message and has every integration of
// the receiver notify it, in parallel, within ctx.
func (s *sender) Send(ctx context.Context, m *notify.Message) (string, error) {
	if m == nil {
		return "", notify.Permanent(errors.New("no message to send"))
	}
	now := m.SentAt
	if now.IsZero() {
		now = s.clock.Now()
	}
	alert := pageAlert(m, now)

	// The context Alertmanager's dispatcher and pipeline would have set:
	// notifiers fail without a group key and log without the rest.
	ctx = amnotify.WithGroupKey(ctx, groupKey(m))
	ctx = amnotify.WithReceiverName(ctx, receiverName)
	groupLabels := model.LabelSet{"namespace": alert.Labels["namespace"], "incident": alert.Labels["incident"]}
	switch {
	case m.Notice != nil:
		groupLabels = model.LabelSet{"namespace": alert.Labels["namespace"], "schedule": alert.Labels["schedule"]}
	case m.Bundle != nil:
		groupLabels = model.LabelSet{"namespace": alert.Labels["namespace"], "bundle": alert.Labels["bundle"]}
	}
	ctx = amnotify.WithGroupLabels(ctx, groupLabels)
	ctx = amnotify.WithNow(ctx, now)
	ctx = amnotify.WithRepeatInterval(ctx, repeatInterval)
	ctx = amnotify.WithMuteTimeIntervals(ctx, nil)
	ctx = amnotify.WithActiveTimeIntervals(ctx, nil)

	results := make(chan result, len(s.integrations))
	for _, in := range s.integrations {
		go func() { results <- in.notify(ctx, alert) }()
	}
	var failed []result
	for pending := len(s.integrations); pending > 0; {
		select {
		case r := <-results:
			pending--
			if r.err != nil {
				failed = append(failed, r)
			}
		case <-ctx.Done():
			failed = append(failed, result{
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

type result struct {
	name  string
	err   error
	retry bool
}

// notify runs the notifier and turns a panic into a permanent error: a
// hostile configuration must not crash the operator.
func (in *integration) notify(ctx context.Context, alert *amtypes.Alert) (r result) {
	r.name = in.String()
	select {
	case in.busy <- struct{}{}:
	case <-ctx.Done():
		return result{name: r.name, err: fmt.Errorf("an earlier send through it is still running: %w", ctx.Err()), retry: true}
	}
	defer func() { <-in.busy }()
	defer func() {
		if p := recover(); p != nil {
			r.err, r.retry = &panicError{value: p}, false
		}
	}()
	r.retry, r.err = in.Notify(ctx, alert)
	if errors.Is(r.err, egress.ErrRefused) {
		// No retry changes the policy's answer.
		r.retry = false
	}
	return r
}

// Bounds on the alert's values. The template check counts on them
// (tmplbudget.LeafBound, tmplbudget.DataBound): keep them in step.
const (
	maxLabelValue  = 256
	maxSummary     = 1024
	maxDescription = 4096
	maxURL         = 2048
)

// dataValue makes a string of the page fit for the alert: it cannot be
// run as a template, and is cut to n bytes.
//
// Alertmanager's PagerDuty details and Jira fields (DeepCopyWithTemplate)
// parse a template's output as YAML and run every string found in it as a
// template again, at any depth: with the default PagerDuty details, an
// incident titled {{ range 1000000000 }}... would run. So no value holds
// "{{" (a space splits the braces), nor what YAML decodes into other text:
// a backslash (escapes such as \x7b) or a "!" that may start a tag
// (!!binary holds base64). Look-alikes stand in for those two.
func dataValue(s string, n int) string {
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
	return bounded.Bytes(s, n)
}

// pageAlert is the one alert a page becomes.
func pageAlert(m *notify.Message, now time.Time) *amtypes.Alert {
	if m.Notice != nil {
		return noticeAlert(m, now)
	}
	if m.Bundle != nil {
		return bundleAlert(m, now)
	}
	inc, page := &m.Incident, &m.Page
	labels := model.LabelSet{"alertname": "KlaxonPage"}
	set := func(name model.LabelName, value string) {
		if value != "" {
			labels[name] = model.LabelValue(dataValue(value, maxLabelValue))
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
		"summary":     model.LabelValue(dataValue(inc.Title, maxSummary)),
		"description": model.LabelValue(dataValue(pageDescription(m), maxDescription)),
	}
	if page.AcknowledgeURL != "" {
		annotations["acknowledge_url"] = model.LabelValue(dataValue(page.AcknowledgeURL, maxURL))
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
			GeneratorURL: dataValue(inc.URL, maxURL),
		},
		UpdatedAt: now,
	}
}

// bundleAlert is the one alert a bundle becomes: its labels name the
// bundle and its count, its summary is the bundle's subject, and its
// description lists the first incidents.
func bundleAlert(m *notify.Message, now time.Time) *amtypes.Alert {
	b := m.Bundle
	labels := model.LabelSet{"alertname": "KlaxonBundle"}
	set := func(name model.LabelName, value string) {
		if value != "" {
			labels[name] = model.LabelValue(dataValue(value, maxLabelValue))
		}
	}
	set("severity", m.Severity())
	set("namespace", m.Incident.Namespace)
	set("bundle", b.ID)
	set("incidents", strconv.Itoa(len(b.Incidents)))
	set("responder", m.Page.Responder)
	set("address", m.Address)
	annotations := model.LabelSet{
		"summary":     model.LabelValue(dataValue(notify.Subject(m), maxSummary)),
		"description": model.LabelValue(dataValue(bundleDescription(m), maxDescription)),
	}
	if b.AcknowledgeURL != "" {
		annotations["acknowledge_url"] = model.LabelValue(dataValue(b.AcknowledgeURL, maxURL))
	}
	return &amtypes.Alert{
		Alert:     model.Alert{Labels: labels, Annotations: annotations, StartsAt: now},
		UpdatedAt: now,
	}
}

// noticeAlert is the one alert a shift notice becomes: its labels name
// the schedule, the person and the notice's kind, its summary is the
// notice's subject and its description the rest of its text. It has no
// severity and no acknowledge link: it is about no incident.
func noticeAlert(m *notify.Message, now time.Time) *amtypes.Alert {
	n := m.Notice
	labels := model.LabelSet{"alertname": "KlaxonShiftNotice"}
	set := func(name model.LabelName, value string) {
		if value != "" {
			labels[name] = model.LabelValue(dataValue(value, maxLabelValue))
		}
	}
	set("namespace", n.Namespace)
	set("schedule", n.Schedule)
	set("responder", n.Responder)
	set("kind", n.Kind)
	set("address", m.Address)
	subject := notify.Subject(m)
	description := strings.TrimSpace(strings.TrimPrefix(notify.Text(m), subject))
	annotations := model.LabelSet{
		"summary":     model.LabelValue(dataValue(subject, maxSummary)),
		"description": model.LabelValue(dataValue(description, maxDescription)),
	}
	return &amtypes.Alert{
		Alert:     model.Alert{Labels: labels, Annotations: annotations, StartsAt: now},
		UpdatedAt: now,
	}
}

// bundleDescription lists the bundle's first incidents and how to list
// them all.
func bundleDescription(m *notify.Message) string {
	var b strings.Builder
	for _, line := range notify.BundleLines(m.Bundle, notify.MaxBundleTitles) {
		b.WriteString("- " + line + "\n")
	}
	if more := len(m.Bundle.Incidents) - notify.MaxBundleTitles; more > 0 {
		fmt.Fprintf(&b, "…and %d more\n", more)
	}
	if ns := notify.OneLine(m.Incident.Namespace); ns != "" {
		b.WriteString("List them: kubectl klaxon status -n " + ns + "\n")
	}
	return strings.TrimSpace(b.String())
}

// pageDescription says the impact, who is paged and where the incident is.
func pageDescription(m *notify.Message) string {
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
	// A message that pages nobody (the fallback page) names no level.
	if who != "" {
		fmt.Fprintf(&b, "Paged at level %d: %s.\n", m.Page.Level, who)
	}
	if m.Incident.URL != "" {
		fmt.Fprintf(&b, "Incident: %s\n", m.Incident.URL)
	}
	return strings.TrimSpace(b.String())
}

// groupKey names the page for the notifiers that deduplicate on it
// (PagerDuty's dedup_key, Opsgenie's alias, ...): one key per page, so a
// retried page stays one upstream alert while the next level or round is a
// new one and is delivered rather than folded into an open alert.
func groupKey(m *notify.Message) string {
	cut := func(s string) string { return bounded.Bytes(s, maxLabelValue) }
	if n := m.Notice; n != nil {
		// One key per notice: a retried notice stays one upstream alert,
		// while the next shift's, or a change that says something else,
		// is delivered rather than folded into the last. The digest of
		// the text tells changes apart, which have no shift of their own.
		digest := sha256.Sum256([]byte(n.Text))
		return fmt.Sprintf("{}/klaxon:{namespace=%q, schedule=%q, kind=%q, start=%q, text=\"%x\", responder=%q, address=%q}",
			cut(n.Namespace), cut(n.Schedule), cut(n.Kind), n.Start.UTC().Format(time.RFC3339), digest[:8],
			cut(n.Responder), cut(m.Address))
	}
	if b := m.Bundle; b != nil {
		// One key per bundle: each is its own upstream alert.
		return fmt.Sprintf("{}/klaxon:{namespace=%q, bundle=%q, responder=%q, address=%q}",
			cut(m.Incident.Namespace), cut(b.ID), cut(m.Page.Responder), cut(m.Address))
	}
	return fmt.Sprintf("{}/klaxon:{namespace=%q, incident=%q, uid=%q, episode=\"%d\", level=\"%d\", round=\"%d\", responder=%q, address=%q}",
		cut(m.Incident.Namespace), cut(m.Incident.Name), cut(m.Incident.UID), m.Incident.Episode, m.Page.Level, m.Page.Round,
		cut(m.Page.Responder), cut(m.Address))
}

// dial gives every connection of the notifiers the egress check, a
// deadline and a read limit. Not every notifier passes its context on
// (Telegram's client does not), and the HTTP client has no timeout of its
// own.
func (s *sender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := s.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(s.clock.Now().Add(notify.SendTimeout)); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("setting a deadline on the connection to %s: %w", addr, err)
	}
	return &cappedConn{Conn: conn, left: maxResponseBytes}, nil
}

var errResponseTooLarge = fmt.Errorf("the server sent more than %d bytes", maxResponseBytes)

// cappedConn fails reads beyond a budget.
type cappedConn struct {
	net.Conn
	left int64
}

func (c *cappedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}
