package notice

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

const (
	// MaxNotices is the most notices status.notices holds (its CRD bound).
	MaxNotices = 64
	// MaxMessageBytes bounds a notice's message (its CRD bound).
	MaxMessageBytes = 2048
	// DefaultBefore is how long before a shift a ShiftStart rule without
	// before tells of it.
	DefaultBefore = time.Hour
	// TooLate is how long after its shift started a ShiftStart notice
	// still goes; later it could no longer help.
	TooLate = 15 * time.Minute
	// keepFinished is how long after it was planned a finished notice is
	// kept.
	keepFinished = 24 * time.Hour
	// maxSpansListed is how many shifts a ShiftChange notice lists under
	// Was and under Now.
	maxSpansListed = 5
	// maxNamesListed is how many people a ShiftStart line names.
	maxNamesListed = 10
)

// Plan is what the planning of one reconcile needs.
type Plan struct {
	Now time.Time
	// Location is the schedule's time zone, in which messages show times.
	Location *time.Location
	// Revision is the record's, which names a ShiftChange notice.
	Revision int64
	// Shifts are everyone's shifts from now (Shifts).
	Shifts []oncall.PersonShift
	// Changes are what an edit changed, by user (Diff).
	Changes map[string]Change
	// Responders are the Responders of the schedule's people, by name.
	Responders map[string]*klaxonv1alpha1.ResponderSpec
}

// Notices returns notices, the schedule's current ones, with finished ones
// past keeping dropped and the notices newly due planned Pending (one too
// late to help is failed by the send, which announces it); and next, when the next ShiftStart
// notice is due to be planned (zero for none). It never plans a key
// already listed, and keeps the list within MaxNotices by dropping the
// oldest finished ones: a notice that finds no room is planned by a later
// reconcile, and next is then soon.
func (p *Plan) Notices(notices []klaxonv1alpha1.ShiftNotice) (out []klaxonv1alpha1.ShiftNotice, next time.Time, untold []string) {
	out = make([]klaxonv1alpha1.ShiftNotice, 0, len(notices))
	known := map[string]bool{}
	for _, n := range notices {
		if p.finishedLongAgo(&n) {
			continue
		}
		known[n.Key] = true
		out = append(out, n)
	}
	soon := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	add := func(n klaxonv1alpha1.ShiftNotice) bool {
		if known[n.Key] {
			return true
		}
		if len(out) >= MaxNotices && !p.dropOldestFinished(&out) {
			soon(p.Now.Add(time.Minute))
			return false
		}
		known[n.Key] = true
		out = append(out, n)
		return true
	}
	for _, sh := range p.Shifts {
		for _, r := range p.rules(sh.User, klaxonv1alpha1.RuleOnShiftStart) {
			at := sh.Start.Add(-r.before)
			switch {
			case !sh.Start.After(p.Now.Add(-TooLate)):
				// On call already when the walk began: not a start to
				// tell, or not one known.
			case p.Now.Before(at):
				soon(at)
			default:
				// Due, or started within TooLate (a restart or a failover
				// across the start): the send tells it, or finds it too late.
				add(p.shiftStart(sh, r.contact))
			}
		}
	}
	for _, user := range sortedUsers(p.Changes) {
		told := true
		for _, r := range p.rules(user, klaxonv1alpha1.RuleOnShiftChange) {
			told = add(p.shiftChange(user, r.contact, p.Changes[user])) && told
		}
		if !told {
			untold = append(untold, user)
		}
	}
	return out, next, untold
}

// finishedLongAgo reports whether a finished notice need no longer be
// kept: a day after it was planned, for people to see how it went, and a
// ShiftStart one at least until TooLate after its shift started, as it is never
// planned again then (a ShiftChange one's revision never is).
func (p *Plan) finishedLongAgo(n *klaxonv1alpha1.ShiftNotice) bool {
	if n.State == klaxonv1alpha1.ShiftNoticePending {
		return false
	}
	if n.Kind == klaxonv1alpha1.ShiftNoticeStart && n.ShiftStart != nil && p.Now.Before(n.ShiftStart.Add(TooLate)) {
		return false
	}
	return !p.Now.Before(n.PlannedAt.Add(keepFinished))
}

// TooLateFor reports whether n is a ShiftStart notice whose shift started
// more than TooLate before now.
func TooLateFor(n *klaxonv1alpha1.ShiftNotice, now time.Time) bool {
	return n.Kind == klaxonv1alpha1.ShiftNoticeStart && n.ShiftStart != nil && now.After(n.ShiftStart.Add(TooLate))
}

// dropOldestFinished drops the first finished notice, the oldest, and
// reports whether there was one. A ShiftStart notice whose shift could
// still be planned again is kept: dropped, it would be sent twice.
func (p *Plan) dropOldestFinished(ns *[]klaxonv1alpha1.ShiftNotice) bool {
	for i, n := range *ns {
		replannable := n.Kind == klaxonv1alpha1.ShiftNoticeStart && n.ShiftStart != nil && p.Now.Before(n.ShiftStart.Add(TooLate))
		if n.State != klaxonv1alpha1.ShiftNoticePending && !replannable {
			*ns = append((*ns)[:i], (*ns)[i+1:]...)
			return true
		}
	}
	return false
}

type rule struct {
	contact string
	before  time.Duration
}

// rules returns the user's rules of a kind whose contact exists, each
// contact once.
func (p *Plan) rules(user string, on klaxonv1alpha1.RuleOn) []rule {
	spec := p.Responders[user]
	if spec == nil {
		return nil
	}
	var out []rule
	used := map[string]bool{}
	for _, r := range spec.Rules {
		if r.Sends() != on || used[r.Contact] || !hasContact(spec, r.Contact) {
			continue
		}
		used[r.Contact] = true
		before := DefaultBefore
		if r.Before != nil {
			before = r.Before.Duration
		}
		out = append(out, rule{contact: r.Contact, before: before})
	}
	return out
}

func hasContact(spec *klaxonv1alpha1.ResponderSpec, name string) bool {
	for _, c := range spec.Contacts {
		if c.Name == name {
			return true
		}
	}
	return false
}

func (p *Plan) base(kind klaxonv1alpha1.ShiftNoticeKind, user, contact, key string) klaxonv1alpha1.ShiftNotice {
	return klaxonv1alpha1.ShiftNotice{Key: key, Kind: kind, User: bounded.Runes(user, maxUser), Contact: contact,
		State: klaxonv1alpha1.ShiftNoticePending, PlannedAt: metav1.NewTime(p.Now.Truncate(time.Second))}
}

func (p *Plan) shiftStart(sh oncall.PersonShift, contact string) klaxonv1alpha1.ShiftNotice {
	key := "ShiftStart/" + sh.User + "/" + contact + "/" + strconv.FormatInt(sh.Start.Unix(), 10)
	n := p.base(klaxonv1alpha1.ShiftNoticeStart, sh.User, contact, bounded.Bytes(key, maxKey))
	start, end := metav1.NewTime(sh.Start.Truncate(time.Second)), metav1.NewTime(sh.End.Truncate(time.Second))
	n.ShiftStart, n.ShiftEnd = &start, &end
	n.Message = StartMessage(sh)
	return n
}

func (p *Plan) shiftChange(user, contact string, c Change) klaxonv1alpha1.ShiftNotice {
	key := "ShiftChange/" + user + "/" + contact + "/" + strconv.FormatInt(p.Revision, 10)
	n := p.base(klaxonv1alpha1.ShiftNoticeChange, user, contact, bounded.Bytes(key, maxKey))
	n.Message = ChangeMessage(c, p.Location)
	return n
}

// maxKey is the CRD bound of a notice's key; a key of a user and contact
// within theirs always fits.
const maxKey = 400

// StartMessage says who hands over to the person and whom they hand over
// to, and who else is on call with them; a line for each there is.
func StartMessage(sh oncall.PersonShift) string {
	var b strings.Builder
	writeNames(&b, "Takes over from: ", sh.HandsOver)
	writeNames(&b, "Hands over to: ", sh.TakesOver)
	writeNames(&b, "With: ", sh.With)
	return bounded.Bytes(strings.TrimSuffix(b.String(), "\n"), MaxMessageBytes)
}

func writeNames(b *strings.Builder, label string, names []string) {
	if len(names) == 0 {
		return
	}
	shown := slices.Clone(names[:min(len(names), maxNamesListed)])
	for i := range shown {
		shown[i] = notify.OneLine(shown[i])
	}
	b.WriteString(label + strings.Join(shown, ", "))
	if more := len(names) - len(shown); more > 0 {
		fmt.Fprintf(b, " and %d more", more)
	}
	b.WriteString("\n")
}

// ChangeMessage lists the shifts the person had and no longer has, and
// those they now have, in loc.
func ChangeMessage(c Change, loc *time.Location) string {
	var b strings.Builder
	spans := func(label string, ss []Span) {
		b.WriteString(label + "\n")
		if len(ss) == 0 {
			b.WriteString("- none\n")
		}
		for i, sp := range ss {
			if i == maxSpansListed {
				fmt.Fprintf(&b, "- and %d more\n", len(ss)-i)
				break
			}
			b.WriteString("- " + notify.NoticeTime(sp.Start, loc) + " to " + notify.NoticeTime(sp.End, loc) + "\n")
		}
	}
	spans("Was:", c.Was)
	spans("Now:", c.Now)
	return bounded.Bytes(strings.TrimSuffix(b.String(), "\n"), MaxMessageBytes)
}

func sortedUsers(m map[string]Change) []string {
	out := make([]string, 0, len(m))
	for u := range m {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}
