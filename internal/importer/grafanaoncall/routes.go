package grafanaoncall

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

// tokenKey is the key of an imported route's token Secret.
const tokenKey = "token"

// alertmanagerTypes are the integrations whose senders post Alertmanager
// or Grafana alerting webhooks, which Klaxon's receiver takes as they are.
var alertmanagerTypes = map[string]bool{"alertmanager": true, "grafana_alerting": true, "grafana": true}

// importIntegrations reads the integrations with their routes and maps
// each route to an AlertRoute.
func (r *run) importIntegrations(ctx context.Context) error {
	integrations, err := list[integration](ctx, r.src, "integrations", nil)
	if err != nil {
		return err
	}
	slices.SortStableFunc(integrations, func(a, b integration) int { return cmp.Compare(a.ID, b.ID) })
	seen := map[string]bool{}
	for i := range integrations {
		in := &integrations[i]
		if seen[in.ID] {
			continue
		}
		seen[in.ID] = true
		routes, err := list[route](ctx, r.src, "routes", url.Values{"integration_id": {in.ID}})
		if err != nil {
			return err
		}
		routes = slices.DeleteFunc(routes, func(rt route) bool { return rt.IntegrationID != "" && rt.IntegrationID != in.ID })
		r.mapIntegration(in, routes)
	}
	return nil
}

// mapIntegration maps an integration's routes, in the order Grafana OnCall
// tries them: by position, the default route last.
func (r *run) mapIntegration(in *integration, routes []route) {
	ie := importer.Entry{SourceKind: "integration", SourceID: importer.Clip(in.ID, importer.MaxValue), SourceName: importer.Clip(in.Name, importer.MaxValue), Outcome: importer.Mapped}
	defaultID := ""
	if in.DefaultRoute != nil {
		defaultID = in.DefaultRoute.ID
	}
	isDefault := func(rt route) bool { return rt.IsTheLastRoute || (defaultID != "" && rt.ID == defaultID) }
	if defaultID != "" && !slices.ContainsFunc(routes, isDefault) {
		routes = append(routes, route{ID: defaultID, IntegrationID: in.ID, EscalationChainID: in.DefaultRoute.EscalationChainID, IsTheLastRoute: true})
	}
	slices.SortStableFunc(routes, func(a, b route) int {
		if isDefault(a) != isDefault(b) {
			if isDefault(a) {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Position, b.Position)
	})
	if !alertmanagerTypes[in.Type] {
		ie.Outcome = importer.Approximated
		ie.Notes = append(ie.Notes, fmt.Sprintf("its senders post %s payloads; Klaxon's receiver takes Alertmanager, Grafana alerting, PagerDuty Events v2 and Opsgenie Alert API payloads: change the senders to one of those", importer.Quote(in.Type)))
	}
	// earlier holds the matchers of the routes before, so that the default
	// route takes only what they leave.
	var earlier [][]string
	exclusive := true
	var names []string
	n := 0
	for _, rt := range routes {
		n++
		e := importer.Entry{SourceKind: "route", SourceID: importer.Clip(rt.ID, importer.MaxValue), Outcome: importer.Mapped}
		var matchers []string
		if isDefault(rt) {
			e.SourceName = importer.Clip(in.Name, importer.MaxValue) + " (default route)"
			m, ok := negate(earlier)
			switch {
			case !exclusive || !ok:
				e.Outcome = importer.Approximated
				e.Notes = append(e.Notes, "the default route takes the alerts no other route took; Klaxon cannot say that of the routes before it, so it also opens incidents for some of their alerts")
			case len(m) > 32:
				e.Outcome = importer.Approximated
				e.Notes = append(e.Notes, "the routes before it need more matchers than Klaxon takes: it also opens incidents for their alerts")
			default:
				matchers = m
			}
		} else {
			e.SourceName = fmt.Sprintf("%s (route %d)", importer.Clip(in.Name, importer.MaxValue), n)
			expr := ""
			if rt.RoutingRegex != nil {
				expr = *rt.RoutingRegex
			}
			m, ok := labelMatchers(rt.RoutingType, expr)
			if !ok {
				e.Outcome = importer.NotMapped
				e.Notes = append(e.Notes, fmt.Sprintf("it routes by the %s %s, which is no plain label match: write Alertmanager matchers for it by hand in a new AlertRoute", routingKind(rt.RoutingType), importer.Quote(expr)))
				exclusive = false
				r.report(e)
				continue
			}
			matchers = m
			earlier = append(earlier, m)
		}
		name, note := r.namer.Name("AlertRoute", rt.ID, routeName(in, n, isDefault(rt)))
		spec := klaxonv1alpha1.AlertRouteSpec{
			Matchers:       matchers,
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: name, Key: tokenKey},
		}
		if rt.EscalationChainID != nil && *rt.EscalationChainID != "" {
			if chain, ok := r.chains[*rt.EscalationChainID]; ok {
				spec.EscalationPolicyRef = &klaxonv1alpha1.LocalObjectReference{Name: chain}
			} else {
				e.Outcome = worse(e.Outcome, importer.Approximated)
				e.Notes = append(e.Notes, fmt.Sprintf("its escalation chain %s was not imported (see its entry): set escalationPolicyRef by hand", importer.Quote(*rt.EscalationChainID)))
			}
		} else {
			e.Notes = append(e.Notes, "it has no escalation chain: its incidents page nobody until escalationPolicyRef is set")
		}
		e.Notes = append(e.Notes, fmt.Sprintf("create Secret %s (key %s, label klaxon.dev/receiver-token=true) before senders post to /alertmanager/<namespace>/%s", name, tokenKey, name))
		if note != "" {
			e.Notes = append(e.Notes, note)
		}
		r.add(&klaxonv1alpha1.AlertRoute{
			TypeMeta:   metav1.TypeMeta{APIVersion: klaxonv1alpha1.GroupVersion.String(), Kind: "AlertRoute"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       spec,
		}, e)
		names = append(names, name)
	}
	if len(names) == 0 {
		ie.Outcome = importer.NotMapped
		ie.Notes = append(ie.Notes, "none of its routes was mapped: write its AlertRoutes by hand")
	} else {
		ie.Notes = append(ie.Notes, fmt.Sprintf("re-point its senders (now posting to %s) at Klaxon's receiver: one webhook to each of %s, under /alertmanager/<namespace>/, with the route's token (docs/alerts-in.md)", importer.Quote(in.Link), strings.Join(names, ", ")))
	}
	r.report(ie)
}

// routeName is the name an AlertRoute is derived from: the integration's,
// with the route's number for routes other than the default.
func routeName(in *integration, n int, isDefault bool) string {
	if isDefault {
		return in.Name
	}
	return in.Name + "-" + strconv.Itoa(n)
}

func routingKind(t string) string {
	if t == "jinja2" {
		return "template"
	}
	return "regular expression"
}

// labelTerm is one comparison of a label with a string in a Jinja2 routing
// template: payload.commonLabels.severity == "critical", or
// labels["team"] != "db".
var labelTerm = regexp.MustCompile(`^(?:payload\.commonLabels|payload\.labels|labels)\s*(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\])\s*(==|!=)\s*"([^"\\]*)"$`)

// labelMatchers translates a Jinja2 routing template that compares labels
// with strings, joined by "and", into Alertmanager matchers; ok is false
// for anything else.
func labelMatchers(routingType, expr string) ([]string, bool) {
	// The API's default routing type is regex.
	if routingType != "jinja2" {
		return nil, false
	}
	body, ok := strings.CutPrefix(strings.TrimSpace(expr), "{{")
	if !ok {
		return nil, false
	}
	body, ok = strings.CutSuffix(body, "}}")
	if !ok || len(body) > 4096 {
		return nil, false
	}
	var out []string
	for _, term := range strings.Split(body, " and ") {
		m := labelTerm.FindStringSubmatch(strings.TrimSpace(term))
		if m == nil {
			return nil, false
		}
		if !importer.Printable(m[4]) {
			return nil, false
		}
		op := "="
		if m[3] == "!=" {
			op = "!="
		}
		out = append(out, cmp.Or(m[1], m[2])+op+strconv.Quote(m[4]))
	}
	slices.Sort(out)
	if len(out) == 0 || len(out) > 32 {
		return nil, false
	}
	return out, true
}

// negate returns matchers that match what none of the lists match, which
// Alertmanager's matchers (all must match) say only when each list is one
// matcher.
func negate(lists [][]string) ([]string, bool) {
	var out []string
	for _, l := range lists {
		if len(l) != 1 {
			return nil, false
		}
		// The operator follows the label name, which has neither ! nor =.
		m := l[0]
		i := strings.IndexAny(m, "!=")
		if i < 0 {
			return nil, false
		}
		if m[i] == '!' {
			out = append(out, m[:i]+m[i+1:])
		} else {
			out = append(out, m[:i]+"!"+m[i:])
		}
	}
	return out, true
}
