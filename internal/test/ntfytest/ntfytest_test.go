package ntfytest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/klaxon-dev/klaxon/internal/test/ntfytest"
)

func publish(t *testing.T, method, url string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

var ignoreStamps = cmpopts.IgnoreFields(ntfytest.Message{}, "ID", "Time", "Expires")

func TestPublishWithHeaders(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	status, answer := publish(t, http.MethodPut, srv.URL+"/alerts", map[string]string{
		"X-Title":    "Disk full",
		"Priority":   "urgent",
		"Tags":       "warning, skull",
		"X-Click":    "https://k.example/i",
		"X-Actions":  `http, Acknowledge, https://k.example/ack/t?a=b, method=PUT, headers.X-Who=alice, body="{""a"":1}", clear=true; view, "Open, now", https://k.example/i`,
		"User-Agent": "curl",
	}, "node-1 is at 100%")
	if status != http.StatusOK || answer["event"] != "message" || answer["id"] == "" || answer["topic"] != "alerts" {
		t.Fatalf("status %d, answer %v", status, answer)
	}
	want := ntfytest.Message{
		Event: "message", Topic: "alerts", Title: "Disk full", Message: "node-1 is at 100%", Priority: 5,
		Tags: []string{"warning", "skull"}, Click: "https://k.example/i",
		Actions: []ntfytest.Action{
			{Action: "http", Label: "Acknowledge", URL: "https://k.example/ack/t?a=b", Method: "PUT",
				Headers: map[string]string{"X-Who": "alice"}, Body: `{""a"":1}`, Clear: true},
			{Action: "view", Label: "Open, now", URL: "https://k.example/i"},
		},
	}
	if diff := cmp.Diff(want, srv.Messages()[0], ignoreStamps, cmpopts.IgnoreFields(ntfytest.Action{}, "ID")); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}

func TestPublishJSON(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{})
	status, answer := publish(t, http.MethodPost, srv.URL, nil,
		`{"topic":"alerts","title":"T","tags":["a"],"priority":4,"click":"https://k/c","actions":[{"action":"http","label":"Ack","url":"https://k/a"}]}`)
	if status != http.StatusOK || answer["message"] != "triggered" {
		t.Fatalf("status %d, answer %v", status, answer)
	}
	want := ntfytest.Message{Event: "message", Topic: "alerts", Title: "T", Message: "triggered", Priority: 4,
		Tags: []string{"a"}, Click: "https://k/c", JSON: true,
		Actions: []ntfytest.Action{{Action: "http", Label: "Ack", URL: "https://k/a"}}}
	if diff := cmp.Diff(want, srv.Messages()[0], ignoreStamps, cmpopts.IgnoreFields(ntfytest.Action{}, "ID")); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}

func TestPublishRefusals(t *testing.T) {
	srv := ntfytest.Start(t, ntfytest.Options{Token: "tk_a"})
	bearer := map[string]string{"Authorization": "Bearer tk_a"}
	for name, c := range map[string]struct {
		method, path string
		header       map[string]string
		body         string
		status, code int
	}{
		"no token":           {http.MethodPost, "/alerts", nil, "x", 403, 40301},
		"a wrong token":      {http.MethodPost, "/alerts", map[string]string{"Authorization": "Bearer tk_b"}, "x", 401, 40101},
		"a bad priority":     {http.MethodPost, "/alerts", map[string]string{"Authorization": "Bearer tk_a", "X-Priority": "9"}, "x", 400, 40007},
		"a bad topic":        {http.MethodPost, "/a.b", bearer, "x", 400, 40009},
		"bad JSON":           {http.MethodPost, "/", bearer, "{", 400, 40017},
		"an action type":     {http.MethodPost, "/alerts", map[string]string{"Authorization": "Bearer tk_a", "X-Actions": "call, Ring, https://k"}, "x", 400, 40018},
		"four actions":       {http.MethodPost, "/alerts", map[string]string{"Authorization": "Bearer tk_a", "X-Actions": "view,a,https://k;view,b,https://k;view,c,https://k;view,d,https://k"}, "x", 400, 40018},
		"a GET":              {http.MethodGet, "/alerts", bearer, "", 404, 40401},
		"basic auth is fine": {http.MethodPost, "/alerts", map[string]string{"Authorization": "Basic OnRrX2E="}, "x", 200, 0},
		"a long message":     {http.MethodPost, "/alerts", bearer, strings.Repeat("x", ntfytest.MessageSizeLimit+1), 400, 40014},
		"a long JSON message": {http.MethodPost, "/", bearer,
			`{"topic":"alerts","message":"` + strings.Repeat("x", ntfytest.MessageSizeLimit+1) + `"}`, 400, 40014},
		"a JSON body too large": {http.MethodPost, "/", bearer,
			`{"topic":"alerts","title":"` + strings.Repeat(`\"`, ntfytest.JSONBodyLimit/2) + `","message":"x"}`, 413, 41303},
	} {
		status, answer := publish(t, c.method, srv.URL+c.path, c.header, c.body)
		if status != c.status {
			t.Errorf("%s: status %d, want %d (%v)", name, status, c.status, answer)
			continue
		}
		if code, _ := answer["code"].(float64); int(code) != c.code || (c.code != 0 && answer["http"] != float64(c.status)) {
			t.Errorf("%s: answer %v, want code %d", name, answer, c.code)
		}
		if c.code == 40007 && answer["error"] != "invalid priority parameter" {
			t.Errorf("%s: error %q, not ntfy's text", name, answer["error"])
		}
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want 1", n)
	}
}

func TestPress(t *testing.T) {
	var got []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			// A 307 keeps the method and the body, as the app's client does.
			http.Redirect(w, r, "/ack", http.StatusTemporaryRedirect)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Who")+" "+string(b))
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("done"))
	}))
	defer target.Close()
	srv := ntfytest.Start(t, ntfytest.Options{})
	status, _ := publish(t, http.MethodPost, srv.URL+"/alerts", map[string]string{
		"X-Actions": "http, Ack, " + target.URL + "/moved; http, Put, " + target.URL + "/put, method=PUT, headers.X-Who=alice, body=hi; view, Open, " + target.URL + "/view",
	}, "x")
	if status != http.StatusOK {
		t.Fatalf("publish: %d", status)
	}
	for _, label := range []string{"Ack", "Put", "Open"} {
		if status, body := srv.Press(0, label); status != http.StatusAccepted || body != "done" {
			t.Errorf("Press(%s) = %d %q", label, status, body)
		}
	}
	want := []string{"POST /ack  ", "PUT /put alice hi", "GET /view  "}
	if !cmp.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}
