package importer_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/importer/apitest"
)

// answers is a directory of saved answers of a made-up tool.
func answers(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(path string, query url.Values, body string) {
		if err := os.WriteFile(filepath.Join(dir, importer.FileName(path, query)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("schedules", nil, `{"schedules":[{"id":"P1"}],"more":true}`)
	write("schedules", url.Values{"offset": {"1"}}, `{"schedules":[{"id":"P2"}],"more":false}`)
	write("broken", nil, `{"schedules":[{"id":`)
	return dir
}

var api = apitest.API{
	Prefix:       "/api",
	Authorized:   func(r *http.Request) bool { return r.Header.Get("Authorization") == "Key right" },
	Unauthorized: `{"error":"bad key"}`,
	NotFound:     `{"error":"not found"}`,
}

type page struct {
	Schedules []struct {
		ID string `json:"id"`
	} `json:"schedules"`
	More bool `json:"more"`
}

func source(t *testing.T, s *apitest.Server, token string, progress *strings.Builder) *importer.HTTPSource {
	t.Helper()
	base, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	src := &importer.HTTPSource{Base: base, Token: token, Name: "tool",
		Authorize: func(r *http.Request, token string) { r.Header.Set("Authorization", "Key "+token) }}
	if progress != nil {
		src.Progress = progress
	}
	return src
}

func TestHTTPSourceReadsSavesAndWaitsWhenThrottled(t *testing.T) {
	dir := answers(t)
	s := apitest.Serve(t, api, dir)
	var progress strings.Builder
	src := source(t, s, "right", &progress)
	src.SaveDir = t.TempDir()
	s.ThrottleOnce("schedules")
	start := time.Now()
	var p page
	if err := src.Get(context.Background(), "schedules", nil, &p); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("answered after %s: the 429's Retry-After of 1s was not honoured", waited)
	}
	if len(p.Schedules) != 1 || p.Schedules[0].ID != "P1" || !p.More {
		t.Errorf("page 1 = %+v", p)
	}
	if err := src.Get(context.Background(), "schedules", url.Values{"offset": {"1"}}, &p); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Requests(), " "); got != "/api/schedules /api/schedules /api/schedules?offset=1" {
		t.Errorf("requests = %s", got)
	}
	if !strings.Contains(progress.String(), "tool: 429 Too Many Requests, waiting 1s") || !strings.Contains(progress.String(), "tool: reading schedules?offset=1") {
		t.Errorf("progress = %q", progress.String())
	}
	// What was saved reads back the same through a DirSource.
	var again page
	if err := (importer.DirSource{Dir: src.SaveDir}).Get(context.Background(), "schedules", url.Values{"offset": {"1"}}, &again); err != nil {
		t.Fatal(err)
	}
	if len(again.Schedules) != 1 || again.Schedules[0].ID != "P2" {
		t.Errorf("saved page 2 = %+v", again)
	}
}

func TestHTTPSourceErrors(t *testing.T) {
	s := apitest.Serve(t, api, answers(t))
	var p page
	err := source(t, s, "wrong", nil).Get(context.Background(), "schedules", nil, &p)
	if !errors.Is(err, importer.ErrUnauthorized) || !strings.Contains(err.Error(), "bad key") {
		t.Errorf("a wrong token: %v", err)
	}
	err = source(t, s, "right", nil).Get(context.Background(), "broken", nil, &p)
	if err == nil || !strings.Contains(err.Error(), "not the JSON expected") {
		t.Errorf("a truncated answer: %v", err)
	}
	err = source(t, s, "right", nil).Get(context.Background(), "missing", nil, &p)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a missing answer: %v", err)
	}
	err = importer.DirSource{Dir: t.TempDir()}.Get(context.Background(), "schedules", nil, &p)
	if err == nil || !strings.Contains(err.Error(), "no saved answer") {
		t.Errorf("a directory without the answer: %v", err)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	m := importer.Manifest{Source: "pagerduty", SavedAt: from, Window: importer.Window{From: from, To: from.Add(28 * 24 * time.Hour)}}
	if err := importer.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := importer.ReadManifest(dir)
	if err != nil || got.Source != m.Source || !got.Window.To.Equal(m.Window.To) {
		t.Errorf("ReadManifest = %+v, %v", got, err)
	}
	if _, err := importer.ReadManifest(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no directory of saved answers") {
		t.Errorf("ReadManifest of an empty directory: %v", err)
	}
}

func TestFileName(t *testing.T) {
	got := importer.FileName("/schedules/P1/overrides/", url.Values{"until": {"2027-01-04T00:00:00Z"}, "since": {"2026-12-07T00:00:00Z"}})
	if got != "schedules_P1_overrides@since=2026-12-07T00-3A00-3A00Z&until=2027-01-04T00-3A00-3A00Z.json" {
		t.Errorf("FileName = %s", got)
	}
	if got := importer.FileName("../../etc/passwd", nil); strings.Contains(got, "/") {
		t.Errorf("FileName kept a slash: %s", got)
	}
}
