package receiver

import (
	"html/template"
	"slices"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// ackView is what an acknowledge page shows: an incident, or only a heading
// and a message when the link cannot be used.
type ackView struct {
	Heading string
	// Message is the outcome, or why the link cannot be used.
	Message string
	// Incident is set only for links that verified.
	Incident *incidentView
	// Responder is who the button acknowledges as.
	Responder      string
	CanAcknowledge bool
}

type incidentView struct {
	Namespace, Name                         string
	Title, Severity, Phase, Service, Impact string
	AcknowledgedBy                          string
	// Paged are the people paged in the current episode, in order.
	Paged []string
}

func viewIncident(inc *klaxonv1alpha1.Incident, c acklink.Claims, message string) ackView {
	phase := inc.Status.Phase
	if phase == "" {
		phase = klaxonv1alpha1.StateTriggered
	}
	return ackView{
		Heading: inc.Spec.Title,
		Message: message,
		Incident: &incidentView{
			Namespace: inc.Namespace, Name: inc.Name,
			Title: inc.Spec.Title, Severity: string(inc.Spec.Severity), Phase: string(phase),
			Service: inc.Spec.Service, Impact: inc.Spec.Impact,
			AcknowledgedBy: inc.Status.AcknowledgedBy,
			Paged:          pagedThisEpisode(&inc.Status),
		},
		Responder:      c.Responder,
		CanAcknowledge: message == "" && awaitsAcknowledgement(inc),
	}
}

// pagedThisEpisode lists the people paged since the current episode began,
// each once.
func pagedThisEpisode(st *klaxonv1alpha1.IncidentStatus) []string {
	var names []string
	for _, a := range st.Assignments {
		if st.TriggeredAt != nil && a.NotifiedAt.Before(st.TriggeredAt) {
			continue
		}
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	return names
}

// ackTemplate renders every acknowledge page. html/template escapes all
// that comes from the incident; the page has no script, and the robots tag
// keeps it out of search engines should a link leak.
var ackTemplate = template.Must(template.New("ack").Parse(ackPageHead + `<h1>{{if .Heading}}{{.Heading}}{{else}}Klaxon{{end}}</h1>
{{with .Message}}<p class="message">{{.}}</p>{{end}}
{{with .Incident}}<dl>
<dt>Severity</dt><dd class="{{.Severity}}">{{.Severity}}</dd>
<dt>Phase</dt><dd>{{.Phase}}</dd>
{{with .Service}}<dt>Service</dt><dd>{{.}}</dd>{{end}}
{{with .Impact}}<dt>Impact</dt><dd>{{.}}</dd>{{end}}
{{with .AcknowledgedBy}}<dt>Acknowledged by</dt><dd>{{.}}</dd>{{end}}
{{with .Paged}}<dt>Paged</dt><dd>{{range $i, $n := .}}{{if $i}}, {{end}}{{$n}}{{end}}</dd>{{end}}
<dt>Incident</dt><dd>{{.Namespace}}/{{.Name}}</dd>
</dl>{{end}}
{{if .CanAcknowledge}}<form method="post">
<button type="submit">Acknowledge as {{.Responder}}</button>
</form>{{end}}
` + ackPageFoot))

// ackPageHead and ackPageFoot frame every acknowledge page, a bundle's
// too (ack_all_page.go): the head needs a Heading.
const (
	ackPageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>{{if .Heading}}{{.Heading}} – {{end}}Klaxon</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem;line-height:1.45;color:#1b1b1b;background:#f6f6f6}
main{max-width:36rem;margin:0 auto;background:#fff;border-radius:8px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.35rem;margin:0 0 .75rem;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem .9rem;margin:1rem 0}
dt{font-weight:600;color:#555}
dd{margin:0;overflow-wrap:anywhere}
.message{padding:.75rem;border-radius:6px;background:#eef3fb;margin:1rem 0}
.SEV1,.SEV2{color:#b00020;font-weight:700}
button{width:100%;font-size:1.1rem;padding:.9rem;border:0;border-radius:6px;background:#b00020;color:#fff;cursor:pointer}
footer{margin-top:1rem;font-size:.8rem;color:#777}
</style>
</head>
<body>
<main>
`
	ackPageFoot = `<footer>Klaxon incident response</footer>
</main>
</body>
</html>
`
)
