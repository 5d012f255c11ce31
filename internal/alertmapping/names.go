package alertmapping

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// groupHashLength is how many hex digits of sha256(groupKey) name a group:
// 40 bits, short enough to read, long enough that two groups of one route
// practically never collide.
const groupHashLength = 10

// GroupHash is the short hash of a group key used in incident names and in
// the klaxon.dev/group label; group keys themselves are too long and hold
// characters neither allows.
func GroupHash(groupKey string) string { return shortHash(groupKey) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:groupHashLength]
}

// IncidentName is the name of the serial-th incident of an alert group:
// "<route>-<hash>" for the first, "<route>-<hash>-<serial>" for later ones,
// where hash is GroupHash(groupKey). The route part is shortened when needed
// so the name stays a valid DNS-1123 subdomain of at most 253 characters.
//
// The name depends only on the route, the group and the serial, never on the
// payload's alerts or times. Two replicas handling the same notification at
// once (an Alertmanager HA pair delivers to both) therefore compute the same
// name, and the API server's AlreadyExists lets exactly one create win; the
// loser reads the winner by name and adopts it (see GroupSerial). The
// serial is NextSerial of the group's latest incident (see LatestIncident
// and Decision.Serial), so the incident opened after the previous one was
// closed, or resolved longer than reopenWindow ago, gets a new name that
// concurrent deliveries also agree on. The receiver moves on to the next
// serial when an object of another group holds a name. Payload times were
// rejected as the distinguishing part: HA peers can see different first
// alerts, and truncated payloads hide some of them.
//
// The name is also the record of the serial: names and spec.source are
// immutable, while labels and the klaxon.dev/group-serial annotation
// (written for people to read) can be edited, so Serial reads the serial
// back from the name and never from those.
func IncidentName(route, groupKey string, serial int32) string {
	suffix := GroupHash(groupKey)
	if serial > 1 {
		suffix += "-" + strconv.FormatInt(int64(serial), 10)
	}
	prefix := dnsPrefix(route, validation.DNS1123SubdomainMaxLength-len(suffix)-1)
	if prefix == "" {
		return suffix
	}
	return prefix + "-" + suffix
}

// dnsPrefix returns route as a DNS-1123 subdomain fragment of at most limit
// characters that can be followed by "-<suffix>". Route names are valid
// subdomains already; anything else is lowered and its other characters
// replaced by '-', so the result is valid whatever the input.
func dnsPrefix(route string, limit int) string {
	if len(validation.IsDNS1123Subdomain(route)) != 0 {
		var b strings.Builder
		dash := false
		for _, r := range strings.ToLower(route) {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				if dash && b.Len() > 0 {
					b.WriteByte('-')
				}
				dash = false
				b.WriteRune(r)
				continue
			}
			dash = true
		}
		route = b.String()
	}
	if len(route) > limit {
		route = route[:limit]
	}
	// A cut valid subdomain may end in '-' or '.', which may not end a name
	// part; the character before either is alphanumeric.
	return strings.TrimRight(route, "-.")
}

// Labels are the labels of an incident opened for the group, for selecting
// the incidents of a route, of a group, or of an alert: the route, the group
// hash, and the group's common alertname and severity label (as valid label
// values; omitted when absent).
func Labels(route *Route, routeName string, msg *Message) map[string]string {
	l := GroupSelector(routeName, msg.GroupKey)
	if v := labelValue(msg.CommonLabels[alertnameLabel]); v != "" {
		l[klaxonv1alpha1.LabelAlertname] = v
	}
	if v := labelValue(msg.CommonLabels[route.severityLabel]); v != "" {
		l[klaxonv1alpha1.LabelAlertSeverity] = v
	}
	return l
}

// GroupSelector are the labels that select every incident of one group of
// one route; the receiver lists with them and picks LatestIncident. They are
// a cheap index, not the truth: the receiver puts them back on an incident
// of the group it found by name without them.
func GroupSelector(routeName, groupKey string) map[string]string {
	return map[string]string{
		klaxonv1alpha1.LabelAlertRoute: routeLabelValue(routeName),
		klaxonv1alpha1.LabelGroup:      GroupHash(groupKey),
	}
}

// RouteSelector are the labels that select every incident a route opened.
func RouteSelector(routeName string) map[string]string {
	return map[string]string{klaxonv1alpha1.LabelAlertRoute: routeLabelValue(routeName)}
}

// GroupIndexValue is GroupSelector as one string, the key under which the
// operator's cache indexes a group's incidents (GroupIndexOf).
func GroupIndexValue(routeName, groupKey string) string {
	return routeLabelValue(routeName) + "/" + GroupHash(groupKey)
}

// GroupIndexOf is the GroupIndexValue an incident's labels place it under;
// false for an incident without both labels, which GroupSelector would not
// select either.
func GroupIndexOf(labels map[string]string) (string, bool) {
	route, ok := labels[klaxonv1alpha1.LabelAlertRoute]
	hash, ok2 := labels[klaxonv1alpha1.LabelGroup]
	if !ok || !ok2 {
		return "", false
	}
	return route + "/" + hash, true
}

// routeLabelValue is the route name when it is a valid label value. Route
// names may be up to 253 characters, label values 63, so longer names are
// cut and given a hash of the whole name to keep routes apart.
func routeLabelValue(route string) string {
	if len(validation.IsValidLabelValue(route)) == 0 {
		return route
	}
	hash := shortHash(route)
	prefix := labelValueWithin(route, validation.LabelValueMaxLength-len(hash)-1)
	if prefix == "" {
		return hash
	}
	return prefix + "-" + hash
}

// labelValue makes v a valid label value, replacing characters labels do
// not allow with '_' and cutting it to 63 characters. Distinct inputs may
// meet; these labels are for reading and filtering, not identity.
func labelValue(v string) string {
	if len(validation.IsValidLabelValue(v)) == 0 {
		return v
	}
	return labelValueWithin(v, validation.LabelValueMaxLength)
}

func labelValueWithin(v string, limit int) string {
	var b strings.Builder
	for _, r := range v {
		if b.Len() >= limit {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	isAlnum := func(r rune) bool {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
	}
	return strings.TrimFunc(b.String(), func(r rune) bool { return !isAlnum(r) })
}

// MaxSerial is the highest group serial. The serial after it is 1 again
// (NextSerial), so serial arithmetic never overflows, whatever name an
// incident was given by hand.
const MaxSerial = math.MaxInt32

// MaxSerialGap is how far above one incident of a group the next one found
// may be and still continue the group's history (see LatestIncident). The
// receiver opens serials one after another, so gaps come only from people
// deleting incidents and from names another group's object holds, which the
// receiver steps over only this far. An incident further up is taken for one
// the receiver did not open (a copy made by hand, a decoy at the top of the
// range) and is not the group's latest.
const MaxSerialGap = 64

// NextSerial is the serial after s: s+1, and 1 after MaxSerial or for no
// incident (s < 1).
func NextSerial(s int32) int32 {
	if s < 1 || s >= MaxSerial {
		return 1
	}
	return s + 1
}

// Serial is the group serial inc's name encodes for the group its immutable
// spec.source names. ok is false when inc has no source or its name is not
// one IncidentName gives for that source (a hand-made incident, or a copy
// under another name): such an incident is no part of any group's history.
func Serial(inc *klaxonv1alpha1.Incident) (serial int32, ok bool) {
	src := inc.Spec.Source
	if src == nil {
		return 0, false
	}
	// The first name has no serial part; its hash may be all digits, so it
	// is matched before a trailing number is read as a serial.
	if inc.Name == IncidentName(src.AlertRoute, src.GroupKey, 1) {
		return 1, true
	}
	i := strings.LastIndexByte(inc.Name, '-')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(inc.Name[i+1:], 10, 32)
	// The round trip refuses signs, leading zeros and any other spelling
	// IncidentName does not produce.
	if err != nil || n < 2 || IncidentName(src.AlertRoute, src.GroupKey, int32(n)) != inc.Name {
		return 0, false
	}
	return int32(n), true
}

// GroupSerial is Serial for an incident of the given route and group, and
// not ok for any other: what the receiver checks before it adopts an
// incident it found by name or by labels, both of which other objects can
// carry.
func GroupSerial(inc *klaxonv1alpha1.Incident, routeName, groupKey string) (int32, bool) {
	if src := inc.Spec.Source; src == nil || src.AlertRoute != routeName || src.GroupKey != groupKey {
		return 0, false
	}
	return Serial(inc)
}

// nextSerial is the serial of the incident that follows inc in its group.
func nextSerial(inc *klaxonv1alpha1.Incident) int32 {
	s, _ := Serial(inc)
	return NextSerial(s)
}

// LatestIncident picks the incident Decide must look at from the incidents
// listed with GroupSelector: the last of the group's history, or nil when
// the group has none. Labels can be edited, so only incidents whose
// immutable spec.source names this route and group and whose name encodes
// a serial count (GroupSerial). The history starts at the lowest serial
// found (people delete old incidents) and runs up through serials at most
// MaxSerialGap apart; an incident further up, such as a copy named with the
// top serial, cannot take the group over or exhaust its serials.
//
// Labels can also be removed, so the latest incident may be missing from
// the list: the receiver then finds it by name, reading the names after
// the one returned here.
func LatestIncident(incidents []klaxonv1alpha1.Incident, routeName, groupKey string) *klaxonv1alpha1.Incident {
	type entry struct {
		serial int32
		inc    *klaxonv1alpha1.Incident
	}
	var history []entry
	for i := range incidents {
		if s, ok := GroupSerial(&incidents[i], routeName, groupKey); ok {
			history = append(history, entry{serial: s, inc: &incidents[i]})
		}
	}
	if len(history) == 0 {
		return nil
	}
	slices.SortFunc(history, func(a, b entry) int { return cmp.Compare(a.serial, b.serial) })
	latest := history[0]
	for _, e := range history[1:] {
		if int64(e.serial)-int64(latest.serial) > MaxSerialGap {
			break
		}
		latest = e
	}
	return latest.inc
}
