package receiver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/heartbeat"
)

// maxHeartbeatBodyBytes bounds a ping's body: a ping says nothing but that
// it came, so a larger body is a mistake (or an attack) and answered 413.
const maxHeartbeatBodyBytes = 1 << 10

// heartbeatIntake serves POST /heartbeat/{namespace}/{name}, and counts the
// heartbeat alerts of Alertmanager notifications (notification) as beats.
//
// It remembers, per heartbeat, when this replica last saw a beat and last
// wrote status.lastSeenAt, so that beats at Alertmanager's repeat cadence
// cost no API request between the coarse writes (heartbeat.WriteInterval).
// The operator judges overdue from the persisted lastSeenAt only.
type heartbeatIntake struct {
	*Server

	// beats holds a beatRecord by namespace/name.
	beats sync.Map
	// matchers holds compiledMatchers by namespace/name.
	matchers sync.Map
}

type beatRecord struct {
	seen, written time.Time
}

type compiledMatchers struct {
	uid        types.UID
	generation int64
	matchers   heartbeat.Matchers
	err        error
}

// ServeHTTP answers a ping with the bearer token of the heartbeat's
// AlertRoute: 204 when recorded, and otherwise as the Alertmanager intake
// answers.
func (h *heartbeatIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	a := h.handle(w, r, ns, name)
	if a.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if a.code == http.StatusNoContent {
		w.WriteHeader(a.code)
	} else {
		writeText(w, a.code, a.message)
	}
	h.logAnswer(a, "heartbeat", ns, name)
}

// handle authenticates a ping as the Alertmanager intake does a notification:
// nothing is revealed before the caller is authenticated, and a wrong token
// for an existing heartbeat gets the same answer as any token for one that
// does not exist.
func (h *heartbeatIntake) handle(w http.ResponseWriter, r *http.Request, ns, name string) answer {
	if r.Method != http.MethodPost {
		return answer{code: http.StatusMethodNotAllowed, message: fmt.Sprintf("method %s is not allowed: heartbeats are POSTed", r.Method)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.APITimeout)
	defer cancel()
	bearer, ok := bearerToken(r)
	if !ok {
		return answer{code: http.StatusUnauthorized, message: "missing bearer token: send the token of the heartbeat's AlertRoute as Authorization: Bearer <token>"}
	}
	hb, err := h.lookupHeartbeat(ctx, ns, name)
	if err != nil {
		return apiUnavailable(err)
	}
	var ar *klaxonv1alpha1.AlertRoute
	if hb != nil {
		if ar, err = h.lookupRoute(ctx, ns, hb.Spec.AlertRouteRef.Name); err != nil {
			return apiUnavailable(err)
		}
	}
	if ar == nil {
		known, err := h.authenticatesNamespace(ctx, ns, bearer)
		switch {
		case err != nil:
			return apiUnavailable(err)
		case known && hb == nil:
			return answer{code: http.StatusNotFound, message: fmt.Sprintf("Heartbeat %s/%s not found: check the namespace and name in the URL", ns, name)}
		case known:
			return answer{code: http.StatusNotFound, message: fmt.Sprintf("AlertRoute %s/%s, which Heartbeat %s/%s names, not found", ns, hb.Spec.AlertRouteRef.Name, ns, name)}
		}
		return h.wrongToken(ns, name)
	}
	if a, ok := h.authenticate(ctx, alertmanagerSender, ar, bearer); !ok {
		if a.code == http.StatusUnauthorized {
			return h.wrongToken(ns, name)
		}
		return a
	}
	switch _, tooLarge, err := readBody(w, r, maxHeartbeatBodyBytes); {
	case tooLarge:
		return answer{code: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("the request body is larger than %d bytes: a ping needs no body", maxHeartbeatBodyBytes)}
	case err != nil:
		return answer{code: http.StatusBadRequest, message: fmt.Sprintf("reading the request body: %v", err)}
	}
	if err := h.beat(ctx, hb); err != nil {
		return unavailable(err)
	}
	return answer{code: http.StatusNoContent}
}

// wrongToken is the one answer to a token that is wrong for the
// URL, whether or not the heartbeat exists.
func (h *heartbeatIntake) wrongToken(ns, name string) answer {
	if a := h.unauthorized(alertmanagerSender, ns, name); a.code != http.StatusUnauthorized {
		return a
	}
	return answer{code: http.StatusUnauthorized, message: fmt.Sprintf(
		"the bearer token is not valid for /heartbeat/%s/%s: send the token of the heartbeat's AlertRoute", ns, name)}
}

// lookupHeartbeat returns the heartbeat from the cache, or from the API
// server (rate limited, as lookupRoute) when the cache does not have it;
// nil when it does not exist.
func (h *heartbeatIntake) lookupHeartbeat(ctx context.Context, ns, name string) (*klaxonv1alpha1.Heartbeat, error) {
	hb := &klaxonv1alpha1.Heartbeat{}
	if found, err := h.lookup(ctx, ns, name, "Heartbeat", hb); !found || err != nil {
		return nil, err
	}
	return hb, nil
}

// beat records a beat: in memory always, and in status.lastSeenAt when the
// persisted value is older than heartbeat.WriteInterval and this replica
// has not written it within that interval. The patch sets lastSeenAt alone,
// without a lock: the receiver is its only writer, so it cannot clobber
// the reconciler's fields.
func (h *heartbeatIntake) beat(ctx context.Context, hb *klaxonv1alpha1.Heartbeat) error {
	now := h.clock.Now()
	key := client.ObjectKeyFromObject(hb).String()
	interval := heartbeat.WriteInterval(hb.Spec.Timeout.Duration)
	rec := beatRecord{seen: now}
	if v, ok := h.beats.Load(key); ok {
		rec.written = v.(beatRecord).written
	}
	var persisted *time.Time
	if hb.Status.LastSeenAt != nil {
		persisted = &hb.Status.LastSeenAt.Time
	}
	if !heartbeat.NeedsWrite(persisted, hb.Spec.Timeout.Duration, now) || (!rec.written.IsZero() && now.Sub(rec.written) < interval) {
		h.beats.Store(key, rec)
		return nil
	}
	prevWritten := rec.written
	rec.written = now
	h.beats.Store(key, rec)
	patched := hb.DeepCopy()
	patched.Status.LastSeenAt = &metav1.Time{Time: now.Truncate(time.Second)}
	if err := h.client.Status().Patch(ctx, patched, client.MergeFrom(hb)); err != nil {
		rec.written = prevWritten
		h.beats.Store(key, rec)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("recording the beat of Heartbeat %s: %w", key, err)
	}
	h.log.V(1).Info("Recorded a heartbeat", "heartbeat", klog.KObj(hb))
	return nil
}

// notification counts the firing alerts of a notification that
// match a heartbeat of its route as beats of that heartbeat. When every
// alert matches some heartbeat (an always-firing Watchdog in a group of its
// own), the notification is answered 200 here and opens no incident; done
// reports that.
func (h *heartbeatIntake) notification(ctx context.Context, ar *klaxonv1alpha1.AlertRoute, msg *alertmapping.Message) (answer, bool) {
	candidates, byName, err := h.candidates(ctx, ar)
	if err != nil {
		// Heartbeats must never stand between an alert and its incident:
		// without them the notification is handled as any other.
		h.log.Error(err, "Cannot list Heartbeats; handling the notification without them", "namespace", ar.Namespace)
		return answer{}, false
	}
	if len(candidates) == 0 {
		return answer{}, false
	}
	beats, onlyBeats := heartbeat.Classify(candidates, msg.Alerts)
	for _, name := range beats {
		if err := h.beat(ctx, byName[name]); err != nil {
			// A beat not recorded is retried with the next notification;
			// the alerts themselves are handled as usual.
			h.log.Error(err, "Cannot record a beat", "heartbeat", name)
		}
	}
	// Only a notification whose alerts are all heartbeat alerts, with at
	// least one firing, is swallowed: a matcher that happens to match
	// everything must not also swallow resolved notifications, which end
	// incidents.
	if !onlyBeats || len(beats) == 0 {
		return answer{}, false
	}
	return answer{code: http.StatusOK, message: fmt.Sprintf("counted as a beat of Heartbeat %s; heartbeat alerts open no incident", strings.Join(beats, ", "))}, true
}

// candidates are the Heartbeats of the route whose matchers compile, as
// heartbeat.Classify takes them, and by name.
func (h *heartbeatIntake) candidates(ctx context.Context, ar *klaxonv1alpha1.AlertRoute) ([]heartbeat.Candidate, map[string]*klaxonv1alpha1.Heartbeat, error) {
	list := &klaxonv1alpha1.HeartbeatList{}
	if err := h.client.List(ctx, list, client.InNamespace(ar.Namespace)); err != nil {
		return nil, nil, err
	}
	var candidates []heartbeat.Candidate
	byName := map[string]*klaxonv1alpha1.Heartbeat{}
	for i := range list.Items {
		hb := &list.Items[i]
		if hb.Spec.AlertRouteRef.Name != ar.Name || len(hb.Spec.Matchers) == 0 {
			continue
		}
		m, err := h.matchersOf(hb)
		if err != nil {
			continue // its Ready condition says why
		}
		candidates = append(candidates, heartbeat.Candidate{Name: hb.Name, Matchers: m})
		byName[hb.Name] = hb
	}
	return candidates, byName, nil
}

// matchersOf compiles a heartbeat's matchers once per generation.
func (h *heartbeatIntake) matchersOf(hb *klaxonv1alpha1.Heartbeat) (heartbeat.Matchers, error) {
	key := client.ObjectKeyFromObject(hb).String()
	if v, ok := h.matchers.Load(key); ok {
		if c := v.(compiledMatchers); c.uid == hb.UID && c.generation == hb.Generation {
			return c.matchers, c.err
		}
	}
	m, err := heartbeat.CompileMatchers(hb.Spec.Matchers)
	h.matchers.Store(key, compiledMatchers{uid: hb.UID, generation: hb.Generation, matchers: m, err: err})
	return m, err
}
