package alertmapping

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
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
// name, and the API server's AlreadyExists lets exactly one create win. The
// serial is one more than the serial of the group's latest incident (see
// LatestIncident and Decision.Serial), so the incident opened after the
// previous one was closed, or resolved longer than reopenWindow ago, gets a
// new name that concurrent deliveries also agree on. Payload times were
// rejected as the distinguishing part: HA peers can see different first
// alerts, and truncated payloads hide some of them.
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

// dnsPrefix returns route as a DNS-1123 subdomain fragment of at most max
// characters that can be followed by "-<suffix>". Route names are valid
// subdomains already; anything else is lowered and its other characters
// replaced by '-', so the result is valid whatever the input.
func dnsPrefix(route string, max int) string {
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
	if len(route) > max {
		route = route[:max]
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
// one route; the receiver lists with them and picks LatestIncident.
func GroupSelector(routeName, groupKey string) map[string]string {
	return map[string]string{
		klaxonv1alpha1.LabelAlertRoute: routeLabelValue(routeName),
		klaxonv1alpha1.LabelGroup:      GroupHash(groupKey),
	}
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

func labelValueWithin(v string, max int) string {
	var b strings.Builder
	for _, r := range v {
		if b.Len() >= max {
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

// Serial is the group serial of an incident, from its
// klaxon.dev/group-serial annotation; 1 when the annotation is missing or
// unreadable, as for the group's first incident.
func Serial(inc *klaxonv1alpha1.Incident) int32 {
	n, err := strconv.ParseInt(inc.Annotations[klaxonv1alpha1.AnnotationGroupSerial], 10, 32)
	if err != nil || n < 1 {
		return 1
	}
	return int32(n)
}

// nextSerial is the serial of the incident that follows inc in its group.
func nextSerial(inc *klaxonv1alpha1.Incident) int32 {
	s := Serial(inc)
	if s == math.MaxInt32 {
		return s
	}
	return s + 1
}

// LatestIncident picks the incident Decide must look at from the incidents
// listed with GroupSelector: the one of this group key with the highest
// serial (a hash collision with another group is ruled out by comparing
// spec.source.groupKey). Ties, which only hand-made copies produce, go to
// the newest. It returns nil when the group has no incident.
func LatestIncident(incidents []klaxonv1alpha1.Incident, groupKey string) *klaxonv1alpha1.Incident {
	var latest *klaxonv1alpha1.Incident
	for i := range incidents {
		inc := &incidents[i]
		if inc.Spec.Source == nil || inc.Spec.Source.GroupKey != groupKey {
			continue
		}
		if latest == nil || later(inc, latest) {
			latest = inc
		}
	}
	return latest
}

func later(a, b *klaxonv1alpha1.Incident) bool {
	if sa, sb := Serial(a), Serial(b); sa != sb {
		return sa > sb
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name > b.Name
}
