package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// Source is where an import reads the tool's API answers: the API itself
// (HTTPSource) or a directory of answers saved by an earlier import
// (DirSource).
type Source interface {
	// Get decodes the JSON answer to GET path?query into v. path is
	// relative to the API's base URL, such as "schedules" or
	// "schedules/P1/overrides".
	Get(ctx context.Context, path string, query url.Values, v any) error
}

// Limits of reading an API.
const (
	// MaxAnswer bounds one answer's body.
	MaxAnswer = 32 << 20
	// requestTimeout bounds one request, retries not included.
	requestTimeout = 30 * time.Second
	// maxRetries bounds the retries of one request after a 429 or a 5xx.
	maxRetries = 5
	// maxRetryAfter bounds how long a Retry-After may make us wait.
	maxRetryAfter = 2 * time.Minute
)

// ErrUnauthorized says the API refused the token.
var ErrUnauthorized = errors.New("the API refused the token")

// HTTPSource reads a tool's API over HTTP.
type HTTPSource struct {
	// Base is the API's base URL; paths are resolved against it.
	Base *url.URL
	// Token is set on each request by Authorize.
	Token     string
	Authorize func(req *http.Request, token string)
	// Client defaults to one with a timeout of 30 s per request.
	Client *http.Client
	// Progress, if set, gets a line for each request.
	Progress io.Writer
	// Name prefixes the progress lines, such as "pagerduty".
	Name string
	// SaveDir, if set, gets each answer as a file DirSource reads.
	SaveDir string
	// Sleep waits between retries; tests may shorten it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock reads a Retry-After date; defaults to the real clock.
	Clock clock.PassiveClock
}

// Get implements Source. Each segment of path is escaped, so an id
// passes as it is, and one that would leave the API's path is refused.
func (s *HTTPSource) Get(ctx context.Context, path string, query url.Values, v any) error {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	for _, seg := range segments {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("reading %s: the path has an empty, . or .. segment", Clip(path, MaxValue))
		}
	}
	u := s.Base.JoinPath(segments...)
	u.RawQuery = query.Encode()
	if s.Progress != nil {
		_, _ = fmt.Fprintf(s.Progress, "%s: reading %s\n", s.Name, display(path, query))
	}
	body, err := s.fetch(ctx, u)
	if err != nil {
		return fmt.Errorf("reading %s: %w", display(path, query), err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("reading %s: the answer is not the JSON expected: %w", display(path, query), err)
	}
	if s.SaveDir != "" {
		if err := os.MkdirAll(s.SaveDir, 0o755); err != nil {
			return fmt.Errorf("saving answers: %w", err)
		}
		if err := os.WriteFile(filepath.Join(s.SaveDir, FileName(path, query)), body, 0o644); err != nil {
			return fmt.Errorf("saving answers: %w", err)
		}
	}
	return nil
}

// fetch GETs u, retrying after a 429 (as its Retry-After says) and a 5xx.
func (s *HTTPSource) fetch(ctx context.Context, u *url.URL) ([]byte, error) {
	hc := s.Client
	if hc == nil {
		hc = &http.Client{Timeout: requestTimeout}
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	clk := s.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if s.Authorize != nil {
			s.Authorize(req, s.Token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the answer: %w", err)
		}
		if len(body) > MaxAnswer {
			return nil, fmt.Errorf("the answer is larger than %d MiB", MaxAnswer>>20)
		}
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return body, nil
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("%w (%s): %s", ErrUnauthorized, resp.Status, snippet(body))
		case (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) && attempt < maxRetries:
			wait := retryAfter(resp.Header.Get("Retry-After"), clk.Now())
			if wait == 0 {
				wait = time.Duration(1<<attempt) * time.Second
			}
			if s.Progress != nil {
				_, _ = fmt.Fprintf(s.Progress, "%s: %s, waiting %s\n", s.Name, resp.Status, wait)
			}
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("the API answered %s: %s", resp.Status, snippet(body))
		}
	}
}

// retryAfter reads a Retry-After header, seconds or an HTTP date, at most
// maxRetryAfter; 0 when there is none.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		return min(max(time.Duration(secs)*time.Second, 0), maxRetryAfter)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// snippet bounds an error answer for a message.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// display is a request as a progress line or an error names it.
func display(path string, query url.Values) string {
	if len(query) == 0 {
		return Clip(path, MaxValue)
	}
	q := query.Encode()
	if plain, err := url.QueryUnescape(q); err == nil {
		q = plain
	}
	return Clip(path+"?"+q, 2*MaxValue)
}

// DirSource reads answers that an HTTPSource saved.
type DirSource struct {
	Dir string
}

// Get implements Source.
func (s DirSource) Get(_ context.Context, path string, query url.Values, v any) error {
	name := filepath.Join(s.Dir, FileName(path, query))
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %s has no saved answer for it (%s): save the answers again with --save-dir", display(path, query), s.Dir, filepath.Base(name))
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", display(path, query), err)
	}
	defer func() { _ = f.Close() }()
	body, err := io.ReadAll(io.LimitReader(f, MaxAnswer+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if len(body) > MaxAnswer {
		return fmt.Errorf("reading %s: larger than %d MiB", name, MaxAnswer>>20)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("reading %s: %s is not the JSON expected: %w", display(path, query), name, err)
	}
	return nil
}

// FileName is the name of the file in which the answer to GET path?query
// is saved: the path with its slashes as underscores, then the encoded
// query, any other character but letters, digits and ._-@=&, as a dash, as
// in "schedules_P1@since=2026-12-07T00-3A00-3A00Z.json". The tools' ids
// are letters, digits and dashes, so no two of their requests share one.
func FileName(path string, query url.Values) string {
	name := strings.ReplaceAll(strings.Trim(path, "/"), "/", "_")
	if len(query) > 0 {
		name += "@" + query.Encode()
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._-@=&,", r):
			return r
		}
		return '-'
	}, name) + ".json"
}

// Manifest describes a directory of saved answers: which tool, and the
// window its final schedules were read for, so an import from the
// directory reads the same answers.
type Manifest struct {
	Source  string    `json:"source"`
	SavedAt time.Time `json:"savedAt"`
	Window  Window    `json:"window"`
}

// ManifestFile is the manifest's name in a directory of saved answers.
const ManifestFile = "klaxon-import.json"

// WriteManifest writes m into dir.
func WriteManifest(dir string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving answers: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o644)
}

// ReadManifest reads the manifest of dir.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("%s is no directory of saved answers (no %s): %w", dir, ManifestFile, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("reading %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if !m.Window.To.After(m.Window.From) {
		return m, fmt.Errorf("%s: the window's to must be after its from", filepath.Join(dir, ManifestFile))
	}
	return m, nil
}
