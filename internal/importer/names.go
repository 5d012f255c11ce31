package importer

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// maxName bounds an imported object's name: a DNS label, so the name also
// serves as a label value and a Responder's name fits a schedule.
const maxName = 63

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := klaxonv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// KindOf returns the Klaxon kind of obj, such as "OnCallSchedule".
func KindOf(obj client.Object) string {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return gvk.Kind
}

// Namer gives source objects Kubernetes names: derived from the source
// name, DNS-safe, and unique within a kind. Give it the objects of a kind
// in a stable order (by source id) and the names are stable from one
// import to the next.
type Namer struct {
	taken map[string]map[string]string // kind: name: source id
	given map[string]string            // kind/source id: name
}

// NewNamer returns a Namer with no names taken.
func NewNamer() *Namer {
	return &Namer{taken: map[string]map[string]string{}, given: map[string]string{}}
}

// Name returns the name of the source object id, called name in the
// source, as a kind's object, and a note when that name is not the source
// name turned into a Kubernetes name (a collision, or no usable
// characters). The same kind and id always get the same name; objects
// without an id get a name each.
func (n *Namer) Name(kind, id, name string) (string, string) {
	if got, ok := n.given[kind+"/"+id]; ok && id != "" {
		return got, ""
	}
	taken := n.taken[kind]
	if taken == nil {
		taken = map[string]string{}
		n.taken[kind] = taken
	}
	base := Sanitize(name)
	note := ""
	if base == "" {
		base = Sanitize(strings.ToLower(kind) + "-" + id)
		note = fmt.Sprintf("%s has no letters or digits to name it by: named %s after its id", Quote(name), base)
	}
	out := base
	if other, clash := taken[out]; clash {
		suffix := Sanitize(id)
		if suffix == "" {
			suffix = "x"
		}
		out = join(base, suffix)
		for i := 2; isTaken(taken, out); i++ {
			out = join(base, fmt.Sprintf("%s-%d", suffix, i))
		}
		note = fmt.Sprintf("name %s was taken by %s %s: named %s", base, kind, Clip(other, MaxValue), out)
	}
	taken[out] = id
	n.given[kind+"/"+id] = out
	return out, note
}

func isTaken(taken map[string]string, name string) bool {
	_, ok := taken[name]
	return ok
}

// Lookup returns the name given to the source object id of kind.
func (n *Namer) Lookup(kind, id string) (string, bool) {
	got, ok := n.given[kind+"/"+id]
	return got, ok
}

// join appends suffix to base within maxName characters.
func join(base, suffix string) string {
	if len(suffix) > maxName-2 {
		suffix = suffix[len(suffix)-(maxName-2):]
	}
	if keep := maxName - 1 - len(suffix); len(base) > keep {
		base = strings.TrimRight(base[:keep], "-")
	}
	if base == "" {
		return strings.Trim(suffix, "-")
	}
	return base + "-" + suffix
}

// Sanitize turns s into a DNS label: lower case letters, digits and
// dashes, starting and ending with a letter or digit, at most 63
// characters. Letters with accents lose them where they have a plain
// form; other characters become dashes. It may return "".
func Sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if plain, ok := plainLetters[r]; ok {
			r = plain
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= maxName {
			break
		}
	}
	out := b.String()
	if len(out) > maxName {
		out = out[:maxName]
	}
	return strings.Trim(out, "-")
}

// plainLetters are the accented letters of European names and their plain
// forms, so that "Zoë Müller" is zoe-muller rather than zo-m-ller.
var plainLetters = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ā': 'a',
	'ç': 'c', 'č': 'c', 'ć': 'c',
	'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e', 'ē': 'e', 'ę': 'e', 'ě': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i',
	'ñ': 'n', 'ń': 'n', 'ň': 'n',
	'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ø': 'o', 'ō': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ū': 'u', 'ů': 'u',
	'ý': 'y', 'ÿ': 'y',
	'ł': 'l', 'ś': 's', 'š': 's', 'ź': 'z', 'ż': 'z', 'ž': 'z', 'ř': 'r', 'ß': 's',
}
