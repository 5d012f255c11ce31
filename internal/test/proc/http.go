package proc

import (
	"context"
	"net/http"
	"path/filepath"
	"runtime"
)

// RepoRoot finds the repository root from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// AnswersOK tells whether a GET of url answers 200 OK. A server that is not
// listening yet is not an error to a caller that polls until it is, such as
// for an operator's /readyz or Alertmanager's /-/ready.
func AnswersOK(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
