package operator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// A leader whose lease another replica takes stops paging but not its
// process: it joins the election again and, once the lease is free,
// reconciles again, over the same cache.
func TestALostLeaseEndsOnlyTheLeaderTerm(t *testing.T) {
	ctx := context.Background()
	cluster := startCluster(t)
	ns := suite.NewNamespace(t, cluster, "terms-")
	_, stop, err := suite.StartOperator(cluster.OperatorConfig, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: "0", WatchNamespaces: []string{ns},
		LeaderElection: true, LeaderElectionNamespace: localcluster.OperatorNamespace,
		LeaseDuration: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 500 * time.Millisecond,
		EgressAllow: suite.LoopbackEgress, Restartable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})

	reconciled := func(name string) {
		t.Helper()
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       klaxonv1alpha1.IncidentSpec{Title: "Database down"},
		}
		if err := cluster.Admin.Create(ctx, inc); err != nil {
			t.Fatal(err)
		}
		suite.Eventually(t, name+" reconciled", 30*time.Second, func(ctx context.Context) (bool, error) {
			err := cluster.Admin.Get(ctx, client.ObjectKeyFromObject(inc), inc)
			return inc.Status.Phase == klaxonv1alpha1.StateTriggered, err
		})
	}
	reconciled("before")

	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: localcluster.OperatorNamespace, Name: "klaxon.klaxon.dev"}
	if err := cluster.Admin.Get(ctx, key, lease); err != nil {
		t.Fatal(err)
	}
	ours := ptr.Deref(lease.Spec.HolderIdentity, "")
	if ours == "" {
		t.Fatal("the lease has no holder while the operator reconciles")
	}
	// Another replica takes the lease, as one does when the leader could
	// not renew it in time, and renews it for a while.
	steal := func() error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := cluster.Admin.Get(ctx, key, lease); err != nil {
				return err
			}
			lease.Spec.HolderIdentity = ptr.To("another-replica")
			lease.Spec.LeaseDurationSeconds = ptr.To[int32](3)
			lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
			return cluster.Admin.Update(ctx, lease)
		})
	}
	if err := steal(); err != nil {
		t.Fatal(err)
	}
	renewing, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan error, 1)
	go func() {
		var err error
		for renewing.Err() == nil && err == nil {
			time.Sleep(500 * time.Millisecond)
			err = steal()
		}
		renewed <- err
	}()
	// The operator's term ends within its renew deadline (1.5 s); from
	// then on, while the other replica leads, it reconciles nothing.
	time.Sleep(3 * time.Second)
	during := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: "during", Namespace: ns},
		Spec:       klaxonv1alpha1.IncidentSpec{Title: "Database down"},
	}
	if err := cluster.Admin.Create(ctx, during); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := cluster.Admin.Get(ctx, client.ObjectKeyFromObject(during), during); err != nil {
		t.Fatal(err)
	}
	if during.Status.Phase != "" {
		t.Errorf("an incident created while another replica held the lease was reconciled (phase %q): two leaders", during.Status.Phase)
	}
	stopRenewing()
	if err := <-renewed; err != nil {
		t.Fatal(err)
	}
	// The operator lost its term; it takes the lease back once the other
	// holder stops renewing it, under the identity it had, and reconciles.
	suite.Eventually(t, "the operator to lead again", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := cluster.Admin.Get(ctx, key, lease)
		return ptr.Deref(lease.Spec.HolderIdentity, "") == ours, err
	})
	if n := ptr.Deref(lease.Spec.LeaseTransitions, 0); n < 1 {
		t.Errorf("the lease records %d transitions, want the one back from the other holder", n)
	}
	reconciled("after")
	suite.Eventually(t, "the incident created while another replica led to be reconciled", 30*time.Second, func(ctx context.Context) (bool, error) {
		err := cluster.Admin.Get(ctx, client.ObjectKeyFromObject(during), during)
		return during.Status.Phase == klaxonv1alpha1.StateTriggered, err
	})

	stopped = true
	if err := stop(); err != nil {
		t.Errorf("the operator stopped with %v; a lost lease must not end it", err)
	}
	if err := cluster.Admin.Get(ctx, key, lease); err != nil {
		t.Fatal(err)
	}
	if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h != "" && strings.HasPrefix(h, strings.SplitN(ours, "_", 2)[0]) {
		t.Errorf("the lease is still held by %q after the operator stopped; it releases it on the way out", h)
	}
}
