package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/alertmapping"
)

// alertStart is every alert's startsAt, so a repeat of a group is
// byte-for-byte the notification Alertmanager repeats.
var alertStart = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// group is one Alertmanager alert group of a bench route.
type group struct {
	namespace string
	id        string
	body      []byte
}

// newGroup builds the firing notification of group id, as Alertmanager
// sends it: one alert, grouped by the label group.
func newGroup(namespace, id string) group {
	key := fmt.Sprintf(`{}:{group=%q}`, id)
	sum := sha256.Sum256([]byte(key))
	msg := webhook.Message{
		Version:  "4",
		GroupKey: key,
		Data: &template.Data{
			Receiver: "klaxon",
			Status:   "firing",
			Alerts: template.Alerts{{
				Status:      "firing",
				Fingerprint: hex.EncodeToString(sum[:8]),
				Labels:      template.KV{"alertname": "BenchAlert", "severity": "critical", "group": id},
				Annotations: template.KV{"summary": "bench group " + id},
				StartsAt:    alertStart,
			}},
			GroupLabels:       template.KV{"group": id},
			CommonLabels:      template.KV{"alertname": "BenchAlert", "severity": "critical", "group": id},
			CommonAnnotations: template.KV{"summary": "bench group " + id},
			ExternalURL:       "http://alertmanager.bench:9093",
		},
	}
	body, err := json.Marshal(msg)
	if err != nil {
		panic(fmt.Sprintf("encoding a webhook message: %v", err)) // fixed types: cannot fail
	}
	return group{namespace: namespace, id: id, body: body}
}

// incident is namespace/name of the group's first incident.
func (g group) incident() string {
	return g.namespace + "/" + alertmapping.IncidentName(routeName, fmt.Sprintf(`{}:{group=%q}`, g.id), 1)
}

// sender posts notifications to the operator's receiver.
type sender struct {
	client *http.Client
}

func newSender() *sender {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	return &sender{client: &http.Client{Transport: t, Timeout: 30 * time.Second}}
}

// post sends the group's notification and returns the receiver's status
// code and, for anything but 200, its answer.
func (s *sender) post(ctx context.Context, receiverURL string, g group) (int, string, error) {
	url := fmt.Sprintf("%s/alertmanager/%s/%s", receiverURL, g.namespace, routeName)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(g.body))
	if err != nil {
		return 0, "", fmt.Errorf("posting to the receiver: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+receiverTok)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("posting to the receiver: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", nil
	}
	return resp.StatusCode, string(answer), nil
}
