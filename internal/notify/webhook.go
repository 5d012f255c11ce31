package notify

import (
	"context"
	"fmt"
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/egress"
)

// WebhookConfig configures Klaxon's webhook: a POST of Payload as JSON.
type WebhookConfig struct {
	// URL is the absolute http or https URL posted to.
	URL string
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token string
	// Client sends the requests; nil means a client with a SendTimeout
	// timeout that does not follow redirects.
	Client *http.Client
	// Egress decides where the client connects; nil applies the built-in
	// refusals only.
	Egress *egress.Policy
}

type webhook struct {
	url    string
	token  string
	client *http.Client
}

// NewWebhook returns a Sender that posts NewPayload(m) to c.URL. Its
// errors are sentences fit for a condition message.
func NewWebhook(c WebhookConfig) (Sender, error) {
	u, err := CheckHTTPURL("webhook", c.URL)
	if err != nil {
		return nil, err
	}
	if err = CheckToken("webhook", c.Token); err != nil {
		return nil, err
	}
	return &webhook{url: u.String(), token: c.Token, client: httpClient(c.Client, c.Egress)}, nil
}

// Send posts the payload. A 2xx answer means sent; 408, 429, 5xx and
// network failures are retryable; any other answer is Permanent. The
// reference is always "": the webhook returns none Klaxon understands.
func (w *webhook) Send(ctx context.Context, m *Message) (string, error) {
	body, err := EncodeJSON(NewPayload(m))
	if err != nil {
		return "", Permanent(fmt.Errorf("encoding the webhook payload: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	header := http.Header{"Content-Type": {"application/json"}}
	if w.token != "" {
		header.Set("Authorization", "Bearer "+w.token)
	}
	code, answer, err := Post(ctx, w.client, w.url, header, body)
	if code == 0 {
		return "", fmt.Errorf("posting to the webhook: %w", err)
	}
	if code < 200 || code > 299 {
		return "", statusError("the webhook", code, answer)
	}
	// A 2xx answer means sent, even if its body broke off.
	return "", nil
}
