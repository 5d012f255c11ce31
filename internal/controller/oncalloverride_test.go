package controller_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/oncall"
	"github.com/klaxon-dev/klaxon/internal/plugin"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// createOverride creates an OnCallOverride of schedule over [start, end).
func createOverride(t *testing.T, ns, name, schedule string, start, end time.Time, mutate func(*klaxonv1alpha1.OnCallOverrideSpec)) *klaxonv1alpha1.OnCallOverride {
	t.Helper()
	o := &klaxonv1alpha1.OnCallOverride{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.OnCallOverrideSpec{ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: schedule},
			Start: metav1.NewTime(start), End: metav1.NewTime(end)},
	}
	mutate(&o.Spec)
	if err := k8s.Create(context.Background(), o); err != nil {
		t.Fatalf("creating override %s: %v", name, err)
	}
	return o
}

func replaceBy(user, with string) func(*klaxonv1alpha1.OnCallOverrideSpec) {
	return func(s *klaxonv1alpha1.OnCallOverrideSpec) {
		s.Replace = &klaxonv1alpha1.OverrideReplacement{User: user, With: with}
	}
}

// waitForOverrideReady waits until the override's Ready reads "status/reason".
func waitForOverrideReady(t *testing.T, o *klaxonv1alpha1.OnCallOverride, want string) *klaxonv1alpha1.OnCallOverride {
	t.Helper()
	got := &klaxonv1alpha1.OnCallOverride{}
	eventually(t, o.Name+" Ready="+want, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && string(c.Status)+"/"+c.Reason == want, nil
	})
	return got
}

// An override says whether it can apply: its schedule missing, a replace of
// someone the schedule never names, written for a time past, scheduled,
// in force, ended; and the schedule lists those in force and next.
func TestOverrideReadiness(t *testing.T) {
	ns := newNamespace(t)
	now := operatorNow()
	missing := createOverride(t, ns, "missing", "payments-primary", now, now.Add(time.Hour), replaceBy("alice", "dave"))
	waitForOverrideReady(t, missing, "False/"+klaxonv1alpha1.ReasonScheduleNotFound)

	s := createSchedule(t, ns, "payments-primary", layer("primary", now.Add(-time.Hour), "alice"))
	waitForOverrideReady(t, missing, "True/"+klaxonv1alpha1.ReasonInForce)
	stranger := createOverride(t, ns, "stranger", "payments-primary", now, now.Add(time.Hour), replaceBy("mallory", "dave"))
	got := waitForOverrideReady(t, stranger, "False/"+klaxonv1alpha1.ReasonUnknownUser)
	if c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady); c.Message == "" {
		t.Error("UnknownUser without a message")
	}
	past := createOverride(t, ns, "past", "payments-primary", now.Add(-2*time.Hour), now.Add(-time.Hour), replaceBy("alice", "dave"))
	waitForOverrideReady(t, past, "False/"+klaxonv1alpha1.ReasonEnded)
	later := createOverride(t, ns, "later", "payments-primary", now.Add(2*time.Hour), now.Add(3*time.Hour),
		func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{"erin"} })
	waitForOverrideReady(t, later, "True/"+klaxonv1alpha1.ReasonScheduled)

	waitForOnCall(t, s, "dave until "+rfc3339(now.Add(time.Hour)))
	// The later override does not move the next handoff, so the schedule
	// may read "dave until" before it has seen that override: wait for the
	// list itself.
	const want = "missing:InForce:replace alice with dave,later:Next:add erin"
	var listed string
	eventually(t, "status.overrides to list "+want, func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.OnCallSchedule{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil {
			return false, err
		}
		var names []string
		for _, o := range got.Status.Overrides {
			names = append(names, o.Name+":"+string(o.State)+":"+o.Change)
		}
		listed = joinComma(names)
		return listed == want, nil
	})

	// The override ends; the schedule goes back to alice until erin joins.
	fakeClock.SetTime(now.Add(time.Hour))
	nudge(t, missing)
	waitForOverrideReady(t, missing, "False/"+klaxonv1alpha1.ReasonEnded)
	nudge(t, s)
	waitForOnCall(t, s, "alice until "+rfc3339(now.Add(2*time.Hour)))
}

// A replace may name someone only another override puts on call: At
// applies the overrides in order, so the override is Ready and listed.
func TestOverrideReplacesSomeoneAnotherOverrideAdds(t *testing.T) {
	ns := newNamespace(t)
	now := operatorNow()
	s := createSchedule(t, ns, "payments-primary", layer("primary", now.Add(-time.Hour), "alice"))
	adds := createOverride(t, ns, "adds-erin", "payments-primary", now, now.Add(time.Hour),
		func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{"erin"} })
	swap := createOverride(t, ns, "swap-erin", "payments-primary", now, now.Add(time.Hour), replaceBy("erin", "dave"))
	waitForOverrideReady(t, adds, "True/"+klaxonv1alpha1.ReasonInForce)
	waitForOverrideReady(t, swap, "True/"+klaxonv1alpha1.ReasonInForce)
	got := waitForOnCall(t, s, "alice,dave until "+rfc3339(now.Add(time.Hour)))
	var listed []string
	for _, o := range got.Status.Overrides {
		listed = append(listed, o.Name+":"+string(o.State))
	}
	if want := "adds-erin:InForce,swap-erin:InForce"; joinComma(listed) != want {
		t.Errorf("status.overrides = %q, want %q", joinComma(listed), want)
	}
}

func joinComma(s []string) string { return strings.Join(s, ",") }

// An override created with the plugin while a GitOps tool keeps
// re-applying the schedule from git is not reverted: it is an object of its own, which the tool does
// not own, and the schedule keeps it in force through every apply.
func TestOverrideStaysInForceThroughGitOpsReapply(t *testing.T) {
	ns := newNamespace(t)
	now := operatorNow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	applied := &unstructured.Unstructured{}
	spec := klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "UTC", Layers: []klaxonv1alpha1.ScheduleLayer{layer("primary", now.Add(-time.Hour), "alice")}}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		t.Fatal(err)
	}
	applied.Object = map[string]any{"apiVersion": "klaxon.dev/v1alpha1", "kind": "OnCallSchedule",
		"metadata": map[string]any{"name": "payments-primary", "namespace": ns}, "spec": content}
	// Each apply carries a new revision, as a GitOps tool's sync of a new
	// commit does: an annotation and the layer's name, which changes the
	// spec (and so the generation) but not who is on call. An identical
	// apply would be a no-op the server never writes.
	// The GitOps tool is a client of its own, with its own request
	// budget: sharing the test's would starve the test's reads.
	gitops, err := client.New(cluster.AdminConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	revision := 0
	apply := func() error {
		revision++
		obj := applied.DeepCopy()
		obj.SetAnnotations(map[string]string{"gitops.example/revision": fmt.Sprint(revision)})
		layers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "layers")
		layers[0].(map[string]any)["name"] = fmt.Sprintf("primary-%d", revision)
		if err := unstructured.SetNestedSlice(obj.Object, layers, "spec", "layers"); err != nil {
			return err
		}
		return gitops.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("gitops"), client.ForceOwnership)
	}
	if err := apply(); err != nil {
		t.Fatal(err)
	}
	s := &klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "payments-primary", Namespace: ns}}
	first := waitForOnCall(t, s, "alice until -")

	var wg sync.WaitGroup
	var mu sync.Mutex
	// lastApplied is the revision of the last apply that returned; the one
	// after it, cut off by the end of the test, may have landed or not.
	applies, failures, lastApplied := 0, 0, revision
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			err := apply()
			mu.Lock()
			if err == nil {
				applies++
				lastApplied = revision
			} else if ctx.Err() == nil {
				failures++
			}
			mu.Unlock()
			// A sync a second: far more often than a GitOps tool
			// applies, yet with room for the schedule's status writes,
			// which a re-apply landing first makes conflict.
			time.Sleep(time.Second)
		}
	}()
	// Someone covers alice from the command line meanwhile.
	var out, errOut bytes.Buffer
	if code := plugin.Execute(ctx, plugin.Options{
		Streams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Clock:   fakeClock, RESTConfig: cluster.AdminConfig,
	}, []string{"override", "replace", "-n", ns, "--schedule", "payments-primary", "--from", "now", "--to", "+2h",
		"--user", "alice", "--with", "dave"}); code != 0 {
		t.Fatalf("kubectl klaxon override replace: exit %d: %s", code, errOut.String())
	}
	// Each re-apply moves the schedule's resourceVersion, and a status
	// write from a version the cache has not caught up with conflicts and
	// is made again: on a loaded machine that takes a while. The bound is
	// for liveness, not speed.
	waitForOnCallWithin(t, s, "dave until "+rfc3339(now.Add(2*time.Hour)), overrideFloodWait)
	mu.Lock()
	before := applies
	mu.Unlock()
	eventually(t, "twenty more applies", func(context.Context) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return applies >= before+20, nil
	})
	cancel()
	wg.Wait()
	if failures > 0 {
		t.Errorf("%d of the re-applies failed", failures)
	}
	got := waitForOnCall(t, s, "dave until "+rfc3339(now.Add(2*time.Hour)))
	if got.Generation <= first.Generation || got.ResourceVersion == first.ResourceVersion {
		t.Errorf("the re-applies wrote nothing: generation %d -> %d, resourceVersion %s -> %s",
			first.Generation, got.Generation, first.ResourceVersion, got.ResourceVersion)
	}
	if rev := got.Annotations["gitops.example/revision"]; rev != fmt.Sprint(lastApplied) && (revision == lastApplied || rev != fmt.Sprint(revision)) {
		t.Errorf("revision annotation = %q, want %d, the last apply that returned (or %d, cut off as it was sent)", rev, lastApplied, revision)
	}
	eventually(t, "status.observedGeneration to catch up", func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil {
			return false, err
		}
		return got.Status.ObservedGeneration == got.Generation, nil
	})
	if onCallReads(got) != "dave until "+rfc3339(now.Add(2*time.Hour)) {
		t.Errorf("after the last apply the schedule reads %q, want dave in force", onCallReads(got))
	}
	if len(got.Spec.Overrides) != 0 {
		t.Errorf("the schedule's spec changed: %+v", got.Spec.Overrides)
	}
	if len(got.Status.Overrides) != 1 || got.Status.Overrides[0].Change != "replace alice with dave" ||
		got.Status.Overrides[0].State != klaxonv1alpha1.OverrideInForceNow {
		t.Errorf("status.overrides = %+v, want the cover in force", got.Status.Overrides)
	}
}

// An ended override is kept for the retention after its end, with a
// requeue for exactly the time left, and deleted at that moment; one not
// ended yet is kept.
func TestOverrideRetentionDeletesEndedOverrides(t *testing.T) {
	ns := newNamespace(t)
	now := operatorNow()
	createSchedule(t, ns, "payments-primary", layer("primary", now.Add(-time.Hour), "alice"))
	ended := createOverride(t, ns, "ended", "payments-primary", now.Add(-2*time.Hour), now.Add(-time.Hour), replaceBy("alice", "dave"))
	going := createOverride(t, ns, "going", "payments-primary", now.Add(-time.Hour), now.Add(time.Hour), replaceBy("alice", "dave"))
	r := controller.NewOverrideRetentionReconciler(operatorClient(t), retention, controller.WithClock(fakeClock))
	reconcile := func(o *klaxonv1alpha1.OnCallOverride) ctrl.Result {
		t.Helper()
		res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		if err != nil {
			t.Fatalf("reconciling the retention of %s: %v", o.Name, err)
		}
		return res
	}
	present := func(o *klaxonv1alpha1.OnCallOverride) bool {
		t.Helper()
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(o), &klaxonv1alpha1.OnCallOverride{})
		return client.IgnoreNotFound(err) == nil && err == nil
	}
	deadline := ended.Spec.End.Add(retention)
	if res, want := reconcile(ended), deadline.Sub(fakeClock.Now()); res.RequeueAfter != want {
		t.Errorf("just ended: RequeueAfter = %v, want %v", res.RequeueAfter, want)
	}
	fakeClock.SetTime(deadline.Add(-time.Second))
	if res := reconcile(ended); res.RequeueAfter != time.Second || !present(ended) {
		t.Fatalf("a second before its deadline: %+v, present %v; want kept for 1s more", res, present(ended))
	}
	fakeClock.SetTime(deadline)
	if res := reconcile(ended); res != (ctrl.Result{}) || present(ended) {
		t.Errorf("at its deadline: %+v, present %v; want deleted", res, present(ended))
	}
	if res := reconcile(going); res.RequeueAfter <= 0 || !present(going) {
		t.Errorf("an override ending later: %+v, present %v; want kept", res, present(going))
	}
}

// overrideFloodWait bounds each wait of TestOverridesBeyondTheCapAreNotReady.
const overrideFloodWait = 8 * time.Minute

// A schedule takes at most oncall.MaxOverrides overrides: the one that
// ends first of one more is Ready=False TooManyOverrides and not listed.
func TestOverridesBeyondTheCapAreNotReady(t *testing.T) {
	ns := newNamespace(t)
	now := operatorNow()
	s := createSchedule(t, ns, "payments-primary", layer("primary", now.Add(-time.Hour), "alice"))
	var first *klaxonv1alpha1.OnCallOverride
	for i := range oncall.MaxOverrides + 1 {
		o := createOverride(t, ns, fmt.Sprintf("o-%04d", i), "payments-primary", now.Add(time.Hour), now.Add(2*time.Hour+time.Duration(i)*time.Second),
			func(s *klaxonv1alpha1.OnCallOverrideSpec) { s.Add = []string{"dave"} })
		if i == 0 {
			first = o
		}
	}
	// A thousand overrides take the controllers a while to go through: a
	// few minutes on a shared machine that runs other packages' API
	// servers at the same time. The bound is for liveness, not speed
	// (make bench measures that).
	got := &klaxonv1alpha1.OnCallOverride{}
	suite.Eventually(t, first.Name+" Ready=False/TooManyOverrides", overrideFloodWait, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(first), got); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady)
		return c != nil && c.Reason == klaxonv1alpha1.ReasonTooManyOverrides, nil
	})
	if c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionReady); !strings.Contains(c.Message, "more than 1000") {
		t.Errorf("TooManyOverrides says %q, want the limit named", c.Message)
	}
	kept := &klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: "o-0001", Namespace: ns}}
	waitForOverrideReady(t, kept, "True/"+klaxonv1alpha1.ReasonScheduled)
	waitForOnCall(t, s, "alice until "+rfc3339(now.Add(time.Hour)))
	// The schedule's status follows once its reconcile has seen them all.
	suite.Eventually(t, "status.overrides without "+first.Name, overrideFloodWait, func(ctx context.Context) (bool, error) {
		sched := &klaxonv1alpha1.OnCallSchedule{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), sched); err != nil {
			return false, err
		}
		return len(sched.Status.Overrides) > 0 && !slices.ContainsFunc(sched.Status.Overrides, func(o klaxonv1alpha1.OverrideInForce) bool {
			return o.Name == first.Name
		}), nil
	})
	// Let the controllers go through every override before the next test,
	// whose objects would otherwise queue behind them.
	suite.Eventually(t, "every override Ready", overrideFloodWait, func(ctx context.Context) (bool, error) {
		list := &klaxonv1alpha1.OnCallOverrideList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for i := range list.Items {
			if meta.FindStatusCondition(list.Items[i].Status.Conditions, klaxonv1alpha1.ConditionReady) == nil {
				return false, nil
			}
		}
		return len(list.Items) == oncall.MaxOverrides+1, nil
	})
}
