package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// Names of the objects every bench namespace holds.
const (
	routeName    = "bench"
	policyName   = "bench"
	fastPolicy   = "fast"
	scheduleName = "primary"
	channelName  = "hook"
	tokenSecret  = "alertmanager-token"
	hookSecret   = "hook-token"
	receiverTok  = "bench-token"
	// level0User is on call on the schedule; level1User is paged by name
	// when a policy escalates.
	level0User = "alice"
	level1User = "bob"
	// overrideName is the OnCallOverride of a team namespace.
	overrideName = "cover"
)

// teamUsers are on call beside alice in a team namespace: her partners
// in the weekday and weekend groups, the Add layer's second pair of
// hands, and who covers that person by an OnCallOverride.
var teamUsers = []string{"carol", "dave", "erin", "frank", "grace"}

// nsOptions say what a bench namespace holds besides a schedule on which
// alice is always on call and a policy that pages it.
type nsOptions struct {
	// route adds the receiver token Secret and an AlertRoute that opens
	// SEV1 incidents paging the policy.
	route bool
	// hookToken makes the webhook channel send a bearer token from a
	// labelled Secret, so each send reads a Secret as in production.
	hookToken bool
	// sendAfter is when the responders' one rule sends, after the page; 0
	// sends at once.
	sendAfter time.Duration
	// escalateAfter adds a level 1 paging bob this long after level 0.
	escalateAfter time.Duration
	// fastAfter adds a second policy, fastPolicy, whose level 1 pages bob
	// this long after level 0.
	fastAfter time.Duration
	// severity is what the route makes of the alerts' severity=critical;
	// SEV1 when empty. SEV1 pages are never bundled.
	severity klaxonv1alpha1.Severity
	// bundleAfter and bundleWindow set the responders' rule's bundling;
	// nil and 0 leave Klaxon's defaults (bundling()).
	bundleAfter  *int32
	bundleWindow time.Duration
	// schedule is the kind of schedule level 0 pages through: scheduleSingle
	// (one layer of alice) when empty; scheduleTeam makes it one a team runs
	// (teamSchedule) with an OnCallOverride in force, so each page reaches
	// three people; scheduleTeamSolo uses the same constructs with groups of
	// one, so each page reaches alice alone.
	schedule string
}

// Klaxon's bundling when neither a rule nor its channel sets it.
const (
	defaultBundleAfter  = 3
	defaultBundleWindow = 30 * time.Second
)

// bundling is how many messages a responder of the namespace may get
// within a window before further pages wait for the window's end, and the
// window.
func (o nsOptions) bundling() (after int, window time.Duration) {
	after, window = defaultBundleAfter, defaultBundleWindow
	if o.bundleAfter != nil {
		after = int(*o.bundleAfter)
	}
	if o.bundleWindow > 0 {
		window = o.bundleWindow
	}
	return after, window
}

// The kinds of scale schedule (-scale-schedule).
const (
	scheduleTeam     = "team"
	scheduleTeamSolo = "team-solo"
	scheduleSingle   = "single"
)

// teamSchedule hands turns to groups as a team does: alice with carol or
// dave on weekdays, with erin from Friday 18:00 to Monday 09:00, a layer
// retired before 2026, and frank added beside them whatever the day.
// Alice is in every group, so the level-0 person the bench watches for is
// paged at any hour of the week.
func teamSchedule(solo bool) klaxonv1alpha1.OnCallScheduleSpec {
	group := func(members ...string) klaxonv1alpha1.ScheduleGroup {
		if solo {
			// The same turns, alice alone in each.
			members = members[:1]
		}
		return klaxonv1alpha1.ScheduleGroup{Members: members}
	}
	added := "frank"
	if solo {
		// Adding whom the layers below have on call adds nobody.
		added = level0User
	}
	weekdays := []klaxonv1alpha1.Weekday{klaxonv1alpha1.Monday, klaxonv1alpha1.Tuesday, klaxonv1alpha1.Wednesday,
		klaxonv1alpha1.Thursday, klaxonv1alpha1.Friday}
	day := metav1.Duration{Duration: 24 * time.Hour}
	week := metav1.Duration{Duration: 168 * time.Hour}
	return klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{
		{Name: "retired", Participants: []string{level0User}, Start: "2025-01-06T09:00:00", End: "2025-12-29T09:00:00", Shift: week},
		{Name: "weekdays", Groups: []klaxonv1alpha1.ScheduleGroup{group(level0User, "carol"), group(level0User, "dave")},
			Start: "2026-01-05T00:00:00", Shift: day,
			Restrictions: []klaxonv1alpha1.TimeRestriction{{Days: weekdays, From: "00:00", To: "00:00"}}},
		{Name: "weekend", Groups: []klaxonv1alpha1.ScheduleGroup{group(level0User, "erin")},
			Start: "2026-01-05T00:00:00", Shift: week,
			Restrictions: []klaxonv1alpha1.TimeRestriction{{FromDay: klaxonv1alpha1.Friday, From: "18:00", ToDay: klaxonv1alpha1.Monday, To: "09:00"}}},
		{Name: "second", Participants: []string{added}, Combine: klaxonv1alpha1.CombineAdd,
			Start: "2026-01-05T00:00:00", Shift: week},
	}}
}

// teamOverride has grace cover frank from an hour before now for a week,
// longer than any bench run.
// With solo, it has grace cover alice and alice cover grace at once (two
// overrides in force, one person on call).
func teamOverride(ns string, now time.Time, solo bool) []client.Object {
	start := now.Add(-time.Hour).Truncate(time.Second)
	override := func(name, user, with string) *klaxonv1alpha1.OnCallOverride {
		return &klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: klaxonv1alpha1.OnCallOverrideSpec{ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: scheduleName},
				Start: metav1.NewTime(start), End: metav1.NewTime(start.Add(7 * 24 * time.Hour)),
				Replace: &klaxonv1alpha1.OverrideReplacement{User: user, With: with}}}
	}
	if solo {
		return []client.Object{override(overrideName, level0User, "grace"), override(overrideName+"-back", "grace", level0User)}
	}
	return []client.Object{override(overrideName, "frank", "grace")}
}

// fixtures creates the objects of a bench namespace and returns what it
// created, so the caller can wait for them to be Ready.
func (b *bench) fixtures(ctx context.Context, ns string, o nsOptions) ([]client.Object, error) {
	var objs []client.Object
	if o.route || o.hookToken {
		if err := b.cluster.GrantSecretAccess(ctx, ns); err != nil {
			return nil, err
		}
	}
	if o.route {
		objs = append(objs, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: tokenSecret, Namespace: ns, Labels: map[string]string{receiver.TokenSecretLabel: "true"}},
			StringData: map[string]string{"token": receiverTok},
		})
	}
	webhook := &klaxonv1alpha1.WebhookChannel{URL: b.observer.hookURL}
	if o.hookToken {
		objs = append(objs, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: hookSecret, Namespace: ns, Labels: map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}},
			StringData: map[string]string{"token": "hook-secret"},
		})
		webhook.TokenSecretRef = &klaxonv1alpha1.SecretKeyReference{Name: hookSecret, Key: "token"}
	}
	policy := func(name string, after time.Duration) *klaxonv1alpha1.EscalationPolicy {
		levels := []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: scheduleName}}}}
		if after > 0 {
			levels = append(levels, klaxonv1alpha1.EscalationLevel{
				After:   &metav1.Duration{Duration: after},
				Targets: []klaxonv1alpha1.EscalationTarget{{User: level1User}},
			})
		}
		return &klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: levels}}
	}
	var after *metav1.Duration
	if o.sendAfter > 0 {
		after = &metav1.Duration{Duration: o.sendAfter}
	}
	schedule := klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{{
		Name: "everyone", Participants: []string{level0User}, Start: "2026-01-05T09:00:00",
		Shift: metav1.Duration{Duration: 168 * time.Hour}}}}
	users := []string{level0User, level1User}
	if o.schedule == scheduleTeam || o.schedule == scheduleTeamSolo {
		schedule = teamSchedule(o.schedule == scheduleTeamSolo)
		users = append(users, teamUsers...)
	}
	objs = append(objs,
		&klaxonv1alpha1.NotificationChannel{ObjectMeta: metav1.ObjectMeta{Name: channelName, Namespace: ns},
			Spec: klaxonv1alpha1.NotificationChannelSpec{Webhook: webhook}},
		&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: scheduleName, Namespace: ns}, Spec: schedule},
		policy(policyName, o.escalateAfter),
	)
	if o.schedule == scheduleTeam || o.schedule == scheduleTeamSolo {
		objs = append(objs, teamOverride(ns, b.clock.Now(), o.schedule == scheduleTeamSolo)...)
	}
	if o.fastAfter > 0 {
		objs = append(objs, policy(fastPolicy, o.fastAfter))
	}
	rule := klaxonv1alpha1.NotificationRule{Contact: "hook", After: after, BundleAfter: o.bundleAfter}
	if o.bundleWindow > 0 {
		rule.BundleWindow = &metav1.Duration{Duration: o.bundleWindow}
	}
	for _, user := range users {
		objs = append(objs, &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{DisplayName: user,
				Contacts: []klaxonv1alpha1.Contact{{Name: "hook", Channel: channelName, Address: contactAddress(user)}},
				Rules:    []klaxonv1alpha1.NotificationRule{rule}}})
	}
	severity := klaxonv1alpha1.SeverityCritical
	if o.severity != "" {
		severity = o.severity
	}
	if o.route {
		objs = append(objs, &klaxonv1alpha1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Name: routeName, Namespace: ns},
			Spec: klaxonv1alpha1.AlertRouteSpec{
				Severity: klaxonv1alpha1.AlertSeverityMapping{Label: "severity",
					Map: map[string]klaxonv1alpha1.Severity{"critical": severity}},
				EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: policyName},
				TitleTemplate:       `{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`,
				TokenSecretRef:      klaxonv1alpha1.SecretKeyReference{Name: tokenSecret, Key: "token"},
			}})
	}
	for _, obj := range objs {
		if err := b.admin.Create(ctx, obj); err != nil {
			return nil, fmt.Errorf("creating %T %s/%s: %w", obj, ns, obj.GetName(), err)
		}
	}
	return objs, nil
}

// contactAddress is the address of a user's webhook contact.
func contactAddress(user string) string { return user + "@bench.example" }

// conditioned is a Klaxon object with conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
}

// waitReady waits until every object with conditions is Ready.
func (b *bench) waitReady(ctx context.Context, objs []client.Object) error {
	for _, obj := range objs {
		c, ok := obj.(conditioned)
		if !ok {
			continue
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			if err := b.admin.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
				return false, fmt.Errorf("reading %T %s: %w", c, c.GetName(), err)
			}
			return meta.IsStatusConditionTrue(c.GetConditions(), klaxonv1alpha1.ConditionReady), nil
		})
		if err != nil {
			return fmt.Errorf("waiting for %T %s/%s to be Ready: %w", c, c.GetNamespace(), c.GetName(), err)
		}
	}
	return nil
}

// newNamespace creates a namespace and its fixtures and waits until they
// are Ready.
func (b *bench) newNamespace(ctx context.Context, prefix string, o nsOptions) (string, error) {
	ns, err := b.cluster.NewNamespace(ctx, prefix)
	if err != nil {
		return "", err
	}
	objs, err := b.fixtures(ctx, ns, o)
	if err != nil {
		return "", err
	}
	return ns, b.waitReady(ctx, objs)
}
