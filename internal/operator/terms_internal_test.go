package operator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

func TestPeerAddress(t *testing.T) {
	for _, tc := range []struct{ podIP, addr, want string }{
		{podIP: "10.1.2.3", addr: ":9094", want: "10.1.2.3:9094"},
		{podIP: "fd00::5", addr: ":9094", want: "[fd00::5]:9094"},
		{podIP: "10.1.2.3", addr: "127.0.0.1:9094", want: "10.1.2.3:9094"},
		{addr: "127.0.0.1:40001", want: "127.0.0.1:40001"},
		{addr: ":9094", want: ""},
		{addr: "0.0.0.0:9094", want: ""},
		{addr: "localhost:9094", want: ""},
		{podIP: "10.1.2.3", addr: "0", want: ""},
		{podIP: "10.1.2.3", addr: "127.0.0.1:0", want: ""},
	} {
		if got := peerAddress(tc.podIP, tc.addr); got != tc.want {
			t.Errorf("peerAddress(%q, %q) = %q, want %q", tc.podIP, tc.addr, got, tc.want)
		}
	}
}

func TestIdentityCarriesThePeerAddress(t *testing.T) {
	for _, tc := range []struct{ peer, want string }{
		{peer: "10.1.2.3:9094", want: "10.1.2.3:9094"},
		{peer: "[fd00::5]:9094", want: "[fd00::5]:9094"},
		{peer: "", want: ""},
	} {
		id := identity("klaxon-7d9f", tc.peer)
		if !strings.HasPrefix(id, "klaxon-7d9f_") {
			t.Errorf("identity(%q) = %q, want it to start with the host name", tc.peer, id)
		}
		if got := peerOf(id); got != tc.want {
			t.Errorf("peerOf(%q) = %q, want %q", id, got, tc.want)
		}
	}
	if a, b := identity("h", ""), identity("h", ""); a == b {
		t.Errorf("two identities of one host are both %q: each process needs its own", a)
	}
	// Identities of other tools, or of older Klaxons, carry no address.
	for _, id := range []string{"klaxon-7d9f_0b1c", "x@not an address", "x@"} {
		if got := peerOf(id); got != "" {
			t.Errorf("peerOf(%q) = %q, want none", id, got)
		}
	}
}

// lease is a lock holding one record in memory.
type lease struct {
	resourcelock.Interface
	id     string
	record *resourcelock.LeaderElectionRecord
	err    error
}

func (l *lease) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	if l.err != nil {
		return nil, nil, l.err
	}
	return l.record, nil, nil
}
func (l *lease) Update(_ context.Context, r resourcelock.LeaderElectionRecord) error {
	l.record = &r
	return nil
}
func (l *lease) Identity() string { return l.id }

func TestObservedLockKnowsTheLastHolder(t *testing.T) {
	ctx := context.Background()
	self := identity("a", "10.0.0.1:9094")
	inner := &lease{id: self}
	l := &observedLock{Interface: inner}
	if peer, isSelf := l.Leader(); peer != "" || isSelf {
		t.Errorf("before any read: Leader() = %q, %t; want none", peer, isSelf)
	}
	other := identity("b", "10.0.0.2:9094")
	inner.record = &resourcelock.LeaderElectionRecord{HolderIdentity: other}
	if _, _, err := l.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if peer, isSelf := l.Leader(); peer != "10.0.0.2:9094" || isSelf {
		t.Errorf("after reading b's lease: Leader() = %q, %t; want b's address", peer, isSelf)
	}
	// A release written after another replica took the lease is refused.
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{}); err == nil || inner.record.HolderIdentity != other {
		t.Errorf("releasing b's lease: %v, and the lease is held by %q; want it refused and b's", err, inner.record.HolderIdentity)
	}
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: self}); err != nil {
		t.Fatal(err)
	}
	if peer, isSelf := l.Leader(); peer != "10.0.0.1:9094" || !isSelf {
		t.Errorf("after taking the lease: Leader() = %q, %t; want this replica", peer, isSelf)
	}
	// A read that fails is reported, and forgets nothing.
	var reported []error
	l.failed = func(err error) { reported = append(reported, err) }
	inner.err = errors.New("connection refused")
	if _, _, err := l.Get(ctx); err == nil || len(reported) != 1 {
		t.Errorf("a failed read: %v, reported %v; want it reported once", err, reported)
	}
	if peer, isSelf := l.Leader(); peer != "10.0.0.1:9094" || !isSelf {
		t.Errorf("after a failed read: Leader() = %q, %t; want this replica still", peer, isSelf)
	}
	inner.err = nil
	// Its own lease it releases.
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{}); err != nil || inner.record.HolderIdentity != "" {
		t.Errorf("releasing its own lease: %v, held by %q; want it released", err, inner.record.HolderIdentity)
	}
}
