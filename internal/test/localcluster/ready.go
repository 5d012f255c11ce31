package localcluster

import (
	"context"

	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// AnswersOK tells whether a GET of url answers 200 OK. A server that is not
// listening yet is not an error to a caller that polls until it is, such as
// for an operator's /readyz or Alertmanager's /-/ready.
func AnswersOK(ctx context.Context, url string) bool {
	return proc.AnswersOK(ctx, url)
}
