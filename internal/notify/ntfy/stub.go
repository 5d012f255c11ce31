// Package ntfy publishes pages to an ntfy server.
package ntfy

import (
	"context"
	"errors"
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// Config is what a Sender needs: the server, an optional access token.
type Config struct {
	URL, Token string
	Egress     *egress.Policy
	HTTPClient *http.Client
}

// Sender publishes to ntfy. This placeholder sends nothing.
type Sender struct{}

// New returns a Sender.
func New(Config) (*Sender, error) { return &Sender{}, nil }

// Send always fails: this build has no ntfy sender.
func (*Sender) Send(context.Context, *notify.Message) (string, error) {
	return "", errors.New("this build cannot publish to ntfy")
}
