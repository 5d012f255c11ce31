package twilio

import (
	"context"
	"errors"
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// Config is what a Sender needs: the REST API's base URL and credentials,
// the number texts and calls come from, and where Twilio calls back.
type Config struct {
	BaseURL, AccountSID, AuthToken, From, PublicURL, Namespace, Channel string
	Egress                                                              *egress.Policy
	HTTPClient                                                          *http.Client
}

// Sender texts and calls through Twilio's REST API. This placeholder sends
// nothing.
type Sender struct{}

// New returns a Sender.
func New(Config) (*Sender, error) { return &Sender{}, nil }

// Send always fails: this build has no Twilio sender.
func (*Sender) Send(context.Context, *notify.Message) (string, error) {
	return "", errors.New("this build cannot send through Twilio")
}
