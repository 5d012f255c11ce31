package receiver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/lifecycle"
)

// maxAttempts bounds the decide-and-write loop. Each retry follows a write
// the API server refused because the incident changed (or its name was
// taken) since it was read, and rereads the group from the API server.
const maxAttempts = 4

// maxFollow bounds how many incidents of the group one lookup finds by name
// past the latest listed one. Each incident of the group found that way gets
// its labels back, so a longer run of unlabelled incidents is listed, and
// followed further, by the next attempt or notification. Names objects of
// other groups hold do not count: a run of them is read through, up to
// alertmapping.MaxSerialGap, so a new incident can step over it.
const maxFollow = 16

// errNamesTaken is why a new incident could not be opened: objects of other
// groups hold every name the group may take next.
var errNamesTaken = errors.New("incidents of other groups (another spec.source) hold the group's next names")

// applied is what an accepted notification did.
type applied struct {
	// incident is the incident it opened, moved or updated (or would have,
	// had anything changed); empty when the group has none.
	incident string
	// action is what it did.
	action alertmapping.Action
}

// applyNotification carries out one sender's notification on its group's
// incident (see apply, acknowledge and note) and records on the route
// which intake reached it and which incident it touched.
func (s *Server) applyNotification(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, n alertmapping.Notification) (applied, answer) {
	var (
		res applied
		a   answer
	)
	switch n.Kind {
	case alertmapping.KindAcknowledge:
		res, a = s.decideAndWrite(ctx, ar, route, n, func(g group) alertmapping.Decision {
			return alertmapping.DecideAcknowledge(g.latest)
		})
	case alertmapping.KindNote:
		res, a = s.note(ctx, ar, n)
	default:
		res, a = s.decideAndWrite(ctx, ar, route, n, func(g group) alertmapping.Decision {
			if n.Timeless {
				var stored *klaxonv1alpha1.AlertsSummary
				if g.latest != nil {
					stored = alertmapping.StoredAlerts(g.latest)
				}
				alertmapping.SettleTimes(stored, n.Message, s.clock.Now())
			}
			return alertmapping.Decide(route, g.latest, n.Message, s.clock.Now())
		})
	}
	if a.code < 300 {
		// Only a notification that changed its incident names it: a repeat
		// of an unchanged group must write nothing, the route included.
		touched := res.incident
		if res.action == alertmapping.ActionNothing {
			touched = ""
		}
		s.recordIntake(ctx, ar, n.Intake, touched)
	}
	return res, a
}

// decideAndWrite decides what the notification does to its group's
// incident (decide) and writes it: nothing at all when nothing changed,
// else at most one create or spec patch and one status patch (and a label
// patch on an incident of the group that lost its labels).
func (s *Server) decideAndWrite(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, n alertmapping.Notification,
	decide func(group) alertmapping.Decision) (applied, answer) {
	var reader client.Reader = s.client
	live := false // reading from the API server, not the cache
	for range maxAttempts {
		g, err := s.findGroup(ctx, reader, !live && s.opts.GroupIndexed, ar, n.GroupKey)
		if err != nil {
			return applied{}, unavailable(err)
		}
		d := decide(g)
		d.Actor = alertmapping.Actor(n.Intake, ar.Name)

		inc, err := s.write(ctx, ar, route, n, g, d)
		switch {
		case apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err):
			// Another delivery (an HA peer) or a person got there first, or
			// the cache was behind: read the truth, by labels and by name,
			// and decide again. An incident of this group holding the name
			// is adopted; another object holding it is stepped over.
			reader, live = s.apiReader, true
			continue
		case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
			return applied{}, answer{code: http.StatusInternalServerError, message: fmt.Sprintf("the API server refused the incident: %v", err)}
		case errors.Is(err, errNamesTaken):
			// Only people can free the names; the sender retries meanwhile.
			// It is not looked up again through the API server, up to
			// MaxSerialGap reads: a cache that still shows an object deleted
			// since has caught up by the retry.
			return applied{}, answer{code: http.StatusServiceUnavailable, cause: err, message: fmt.Sprintf(
				"cannot open the group's next incident: %v; delete those incidents, the sender will retry", err)}
		case err != nil:
			if s.opts.Relay != nil {
				s.opts.Relay.APIFailed(err)
			}
			return applied{}, unavailable(err)
		}
		res := applied{action: d.Action}
		if inc != nil {
			res.incident = inc.Name
		}
		if d.Action == alertmapping.ActionNothing {
			return res, answer{code: http.StatusOK, message: d.Message}
		}
		s.log.Info("Applied a notification", "intake", n.Intake, "incident", klog.KObj(inc), "action", d.Action)
		if s.opts.Relay != nil {
			s.opts.Relay.Enqueue(client.ObjectKeyFromObject(inc))
		}
		return res, answer{code: http.StatusOK, message: fmt.Sprintf("%s: incident %s", d.Message, inc.Name)}
	}
	return applied{}, unavailable(fmt.Errorf("the group's incident kept changing during %d attempts", maxAttempts))
}

// note records a KindNote notification on the timeline of its group's
// open incident; a group without one takes no note. The timeline belongs
// to the reconciler's status writes too, so the entry is appended under
// optimistic locking and a conflict reads the incident again.
func (s *Server) note(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, n alertmapping.Notification) (applied, answer) {
	var reader client.Reader = s.client
	live := false
	for range maxAttempts {
		g, err := s.findGroup(ctx, reader, !live && s.opts.GroupIndexed, ar, n.GroupKey)
		if err != nil {
			return applied{}, unavailable(err)
		}
		if !alertmapping.Open(g.latest) {
			return applied{action: alertmapping.ActionNothing}, answer{code: http.StatusOK, message: "The group has no open incident; the note is not recorded"}
		}
		if alertmapping.NotesFull(g.latest) {
			return applied{incident: g.latest.Name, action: alertmapping.ActionNothing}, answer{code: http.StatusOK, message: fmt.Sprintf(
				"Incident %s holds %d notes from senders already; the note is not recorded", g.latest.Name, alertmapping.MaxSenderNotes)}
		}
		err = s.appendNote(ctx, g.latest, n.NoteEntry(ar.Name, s.clock.Now()))
		switch {
		case apierrors.IsConflict(err):
			reader, live = s.apiReader, true
			continue
		case err != nil:
			return applied{}, unavailable(err)
		}
		return applied{incident: g.latest.Name, action: alertmapping.ActionNote},
			answer{code: http.StatusOK, message: fmt.Sprintf("Noted on the timeline of incident %s", g.latest.Name)}
	}
	return applied{}, unavailable(fmt.Errorf("the group's incident kept changing during %d attempts", maxAttempts))
}

// maxRouteNotes bounds how many open incidents of a route one route-wide
// note (noteRoute) is written to; the newest are noted first.
const maxRouteNotes = 20

// noteRoute records a note about the whole route (a PagerDuty change event)
// on the timeline of each of its active incidents (triggered, acknowledged
// or mitigated), the newest first, at most maxRouteNotes of them, and
// reports how many it noted. An incident that keeps changing under the
// write, or whose timeline holds MaxSenderNotes notes already, is skipped.
func (s *Server) noteRoute(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, n alertmapping.Notification) (int, answer) {
	list := &klaxonv1alpha1.IncidentList{}
	if err := s.client.List(ctx, list, client.InNamespace(ar.Namespace),
		client.MatchingLabels(alertmapping.RouteSelector(ar.Name))); err != nil {
		return 0, unavailable(fmt.Errorf("listing the incidents of the route: %w", err))
	}
	open := make([]*klaxonv1alpha1.Incident, 0, len(list.Items))
	for i := range list.Items {
		inc := &list.Items[i]
		if src := inc.Spec.Source; src != nil && src.AlertRoute == ar.Name && alertmapping.Active(inc) && !alertmapping.NotesFull(inc) {
			open = append(open, inc)
		}
	}
	slices.SortFunc(open, func(a, b *klaxonv1alpha1.Incident) int {
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
	entry := n.NoteEntry(ar.Name, s.clock.Now())
	noted := 0
	for _, inc := range open[:min(len(open), maxRouteNotes)] {
		err := s.appendNote(ctx, inc, entry)
		if apierrors.IsConflict(err) {
			fresh := &klaxonv1alpha1.Incident{}
			if err = s.apiReader.Get(ctx, client.ObjectKeyFromObject(inc), fresh); err == nil && alertmapping.Active(fresh) && !alertmapping.NotesFull(fresh) {
				err = s.appendNote(ctx, fresh, entry)
			}
		}
		switch {
		case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
			continue
		case err != nil:
			return noted, unavailable(err)
		}
		noted++
	}
	if noted > 0 {
		s.recordIntake(ctx, ar, n.Intake, "")
	}
	return noted, answer{code: http.StatusOK, message: fmt.Sprintf("Noted on the timeline of %d open incidents", noted)}
}

// appendNote appends entry to inc's timeline, under optimistic locking.
func (s *Server) appendNote(ctx context.Context, inc *klaxonv1alpha1.Incident, entry klaxonv1alpha1.TimelineEntry) error {
	noted := inc.DeepCopy()
	lifecycle.AppendTimeline(&noted.Status, entry)
	if err := s.client.Status().Patch(ctx, noted, client.MergeFromWithOptions(inc, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("noting on the timeline of incident %s: %w", inc.Name, err)
	}
	return nil
}

// group is what one lookup found of a group's incidents.
type group struct {
	// latest is the group's latest incident; nil when it has none.
	latest *klaxonv1alpha1.Incident
	// taken holds the serials after latest's whose names objects of other
	// groups hold, which a new incident steps over.
	taken map[int32]bool
}

// GroupIndex is the cache index of incidents by group (IndexIncidentGroups).
const GroupIndex = "klaxon.dev/group"

// IndexIncidentGroups indexes the cache's incidents by the group labels
// GroupSelector selects by, for Options.GroupIndexed.
func IndexIncidentGroups(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &klaxonv1alpha1.Incident{}, GroupIndex, func(obj client.Object) []string {
		if v, ok := alertmapping.GroupIndexOf(obj.GetLabels()); ok {
			return []string{v}
		}
		return nil
	})
}

// findGroup finds the group's latest incident. The labels are a cheap index
// that people can edit or remove, so it lists by them, keeps only the
// incidents whose immutable name and spec.source place them in the group
// (LatestIncident), and then reads the names that follow the latest one:
// an incident of the group found there lost its labels, is adopted as the
// latest and gets them back.
func (s *Server) findGroup(ctx context.Context, reader client.Reader, indexed bool, ar *klaxonv1alpha1.AlertRoute, groupKey string) (group, error) {
	list := &klaxonv1alpha1.IncidentList{}
	selector := client.ListOption(client.MatchingLabels(alertmapping.GroupSelector(ar.Name, groupKey)))
	if indexed {
		// A label selector scans the namespace's incidents, which in an
		// alert storm made finding groups the receiver's main cost.
		selector = client.MatchingFields{GroupIndex: alertmapping.GroupIndexValue(ar.Name, groupKey)}
	}
	err := reader.List(ctx, list, client.InNamespace(ar.Namespace), selector)
	if err != nil {
		return group{}, fmt.Errorf("listing incidents of the group: %w", err)
	}
	g := group{latest: alertmapping.LatestIncident(list.Items, ar.Name, groupKey), taken: map[int32]bool{}}
	var serial int32
	if g.latest != nil {
		serial, _ = alertmapping.Serial(g.latest)
	}
	// followed counts incidents of the group found by name, run the names
	// other objects hold since the last of them. A run as long as
	// MaxSerialGap ends the walk: the group cannot step over it.
	followed, run := 0, 0
	for reads := 0; reads < maxFollow+alertmapping.MaxSerialGap && followed < maxFollow && run < alertmapping.MaxSerialGap; reads++ {
		serial = alertmapping.NextSerial(serial)
		name := alertmapping.IncidentName(ar.Name, groupKey, serial)
		inc := &klaxonv1alpha1.Incident{}
		if err := reader.Get(ctx, client.ObjectKey{Namespace: ar.Namespace, Name: name}, inc); err != nil {
			if apierrors.IsNotFound(err) {
				break
			}
			return group{}, fmt.Errorf("reading incident %s: %w", name, err)
		}
		if _, ok := alertmapping.GroupSerial(inc, ar.Name, groupKey); !ok {
			g.taken[serial] = true
			run++
			continue
		}
		g.latest = s.restoreLabels(ctx, inc, alertmapping.GroupSelector(ar.Name, groupKey))
		clear(g.taken)
		followed, run = followed+1, 0
	}
	return g, nil
}

// restoreLabels puts the group's selector labels back on an incident of the
// group that lost them, so the next notification lists it. The receiver
// created the incident and only sets its own labels, so the patch needs no
// lock. A failure costs the next notification one more read and is logged,
// not answered.
func (s *Server) restoreLabels(ctx context.Context, inc *klaxonv1alpha1.Incident, want map[string]string) *klaxonv1alpha1.Incident {
	missing := false
	for k, v := range want {
		if inc.Labels[k] != v {
			missing = true
		}
	}
	if !missing {
		return inc
	}
	patched := inc.DeepCopy()
	if patched.Labels == nil {
		patched.Labels = map[string]string{}
	}
	maps.Copy(patched.Labels, want)
	if err := s.client.Patch(ctx, patched, client.MergeFrom(inc)); err != nil {
		s.log.Error(err, "Restoring the group labels of an incident", "incident", klog.KObj(inc))
		return inc
	}
	s.log.Info("Restored the group labels of an incident", "incident", klog.KObj(inc))
	return patched
}

// write carries out a decision.
func (s *Server) write(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, n alertmapping.Notification,
	g group, d alertmapping.Decision) (*klaxonv1alpha1.Incident, error) {
	var inc *klaxonv1alpha1.Incident
	switch d.Action {
	case alertmapping.ActionNothing:
		return g.latest, nil
	case alertmapping.ActionCreate:
		created, err := s.create(ctx, ar, route, n, g.taken, d.Serial, d.Alerts)
		if err != nil {
			return nil, err
		}
		if alertmapping.OpeningAlerts(created) != nil {
			// Created with its alerts: the reconciler stores them with its
			// first status write, so there is no second writer to race.
			return created, nil
		}
		inc = created
	default:
		inc = g.latest.DeepCopy()
		if d.ApplySpec(inc) {
			// Optimistic locking: a move decided on a stale state is refused
			// and decided again.
			patch := client.MergeFromWithOptions(g.latest, client.MergeFromWithOptimisticLock{})
			if err := s.client.Patch(ctx, inc, patch); err != nil {
				return nil, fmt.Errorf("moving incident %s to %s: %w", inc.Name, d.State, err)
			}
		}
	}
	base := inc.DeepCopy()
	if d.ApplyStatus(inc) {
		// Only status.alerts changes, and only the receiver writes it, so the
		// patch needs no lock and cannot clobber the reconciler's fields.
		if err := s.client.Status().Patch(ctx, inc, client.MergeFrom(base)); err != nil {
			return nil, fmt.Errorf("recording the alerts of incident %s: %w", inc.Name, err)
		}
	}
	return inc, nil
}

// create opens the group's incident with the first free name from serial
// first on (NextSerial of the latest incident's serial), stepping over the
// names objects of other groups hold: the ones the lookup found (taken) and
// the ones the API server's AlreadyExists reveals, which the cache may not
// show yet and which it reads from the API server. It steps over fewer than
// MaxSerialGap names, so LatestIncident still reaches the new incident from
// the group's latest, and every replica, reading the same objects, picks the
// same name. An incident of the group holding a name (an HA peer opened it)
// ends the walk with the AlreadyExists error: the caller decides again.
func (s *Server) create(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, route *alertmapping.Route, n alertmapping.Notification,
	taken map[int32]bool, first int32, alerts *klaxonv1alpha1.AlertsSummary) (*klaxonv1alpha1.Incident, error) {
	msg := n.Message
	serial, last := first, first
	for range alertmapping.MaxSerialGap {
		last = serial
		if taken[serial] {
			serial = alertmapping.NextSerial(serial)
			continue
		}
		created, err := alertmapping.NewIncident(route, ar.Name, ar.Namespace, serial, msg)
		if err != nil {
			return nil, fmt.Errorf("building the incident: %w", err)
		}
		n.Stamp(created, ar.Name)
		alertmapping.SetOpeningAlerts(created, alerts)
		err = s.client.Create(ctx, created)
		if err == nil {
			return created, nil
		}
		err = fmt.Errorf("creating incident %s: %w", created.Name, err)
		if !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
		holder := &klaxonv1alpha1.Incident{}
		if gerr := s.apiReader.Get(ctx, client.ObjectKeyFromObject(created), holder); gerr != nil {
			if apierrors.IsNotFound(gerr) {
				return nil, err // deleted since: look again
			}
			return nil, fmt.Errorf("reading incident %s: %w", created.Name, gerr)
		}
		if _, ok := alertmapping.GroupSerial(holder, ar.Name, msg.GroupKey); ok {
			return nil, err
		}
		taken[serial] = true
		serial = alertmapping.NextSerial(serial)
	}
	return nil, fmt.Errorf("%w, %s through %s", errNamesTaken,
		alertmapping.IncidentName(ar.Name, msg.GroupKey, first), alertmapping.IncidentName(ar.Name, msg.GroupKey, last))
}
