package statuspage

import (
	"html/template"
	"io"
	"time"
)

// WriteHTML writes the view as a page. html/template escapes everything
// that comes from the incidents and the page; the page has no script and
// refreshes itself every minute.
func WriteHTML(w io.Writer, v View) error {
	return pageTemplate.Execute(w, v)
}

// WriteNotFound writes the page answering a status page that does not
// exist.
func WriteNotFound(w io.Writer) error {
	return notFoundTemplate.Execute(w, nil)
}

var funcs = template.FuncMap{
	"human": Human,
	"utc":   func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

const style = `<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem;line-height:1.45;color:#1b1b1b;background:#f6f6f6}
main{max-width:40rem;margin:0 auto}
header{margin-bottom:1rem}
h1{font-size:1.5rem;margin:0 0 .25rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.1rem 0 .4rem}
h3{font-size:1.05rem;margin:.1rem 0 .4rem;overflow-wrap:anywhere}
p{margin:.2rem 0}
article{background:#fff;border-radius:8px;padding:.75rem .9rem;margin:.6rem 0;box-shadow:0 1px 3px rgba(0,0,0,.15);border-left:5px solid #888;overflow-wrap:anywhere}
article.SEV1{border-left-color:#b00020}article.SEV2{border-left-color:#e65100}article.SEV3{border-left-color:#f9a825}article.SEV4{border-left-color:#607d8b}
article.resolved{border-left-color:#2e7d32}
.meta{font-size:.8rem;color:#555}
.badge{display:inline-block;font-size:.75rem;font-weight:700;padding:.05rem .45rem;border-radius:4px;background:#eee;margin-right:.3rem}
.SEV1 .sev{background:#b00020;color:#fff}.SEV2 .sev{background:#e65100;color:#fff}
.update{background:#eef3fb;border-radius:6px;padding:.4rem .6rem;margin:.4rem 0}
.ok{background:#e8f5e9;border-radius:8px;padding:1rem;font-weight:600}
footer{margin-top:1.5rem;font-size:.8rem;color:#777}
a{color:#0b57d0}
</style>`

var pageTemplate = template.Must(template.New("page").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>{{.Title}}</title>
<link rel="alternate" type="application/atom+xml" title="{{.Title}}" href="{{.FeedPath}}">
` + style + `
</head>
<body>
<main>
<header>
<h1>{{.Title}}</h1>
{{with .Description}}<p>{{.}}</p>{{end}}
</header>
{{if .Open}}<h2>Open incidents</h2>
{{range .Open}}{{template "item" .}}{{end}}
{{else}}<p class="ok">No open incidents.</p>
{{end}}
{{if .Resolved}}<h2>Resolved in the last 7 days</h2>
{{range .Resolved}}{{template "item" .}}{{end}}
{{end}}
{{if .Omitted}}<p class="meta">{{.Omitted}} older incidents are not shown.</p>{{end}}
<footer>Updated <time datetime="{{iso .Now}}">{{utc .Now}}</time>; this page refreshes every minute. <a href="{{.FeedPath}}">Atom feed</a></footer>
</main>
</body>
</html>
{{define "item"}}<article id="{{.Anchor}}" class="{{if .Open}}{{.Severity}}{{else}}resolved{{end}}">
<p><span class="badge sev">{{.Severity}}</span><span class="badge">{{.Status}}</span></p>
<h3>{{.Title}}</h3>
{{with .Service}}<p class="meta">Service: {{.}}</p>{{end}}
{{with .Impact}}<p>{{.}}</p>{{end}}
{{with .Update}}<div class="update"><p>{{.Text}}</p><p class="meta">Update at <time datetime="{{iso .Time}}">{{utc .Time}}</time></p></div>{{end}}
{{if .Open}}<p class="meta">Started <time datetime="{{iso .Started}}">{{utc .Started}}</time>; open for {{human .Duration}}.</p>
{{else}}<p class="meta">Resolved <time datetime="{{iso .ResolvedAt}}">{{utc .ResolvedAt}}</time>, after {{human .Duration}}.</p>
{{end}}</article>
{{end}}`))

var notFoundTemplate = template.Must(template.New("notfound").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status page not found</title>
` + style + `
</head>
<body>
<main>
<h1>Status page not found</h1>
<p>There is no status page at this address. Check the link you were given.</p>
</main>
</body>
</html>
`))
