// Package e2e runs the real operator binary against a local control plane
// and a real Alertmanager posting real webhooks.
package e2e
