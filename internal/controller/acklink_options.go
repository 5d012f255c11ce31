package controller

import (
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// ackLinkOptions are where acknowledge links come from (WithAckLinks).
type ackLinkOptions struct {
	// keys holds the signer once the key is loaded; nil means no links.
	keys *acklink.Keyring
	// ttl is how long a link is valid after the page that carries it.
	ttl time.Duration
}

// WithAckLinks makes pages carry acknowledge links signed with the key in
// keys, valid for ttl. Pages sent before the key is loaded carry none.
func WithAckLinks(keys *acklink.Keyring, ttl time.Duration) Option {
	return func(o *options) { o.ackLinks = ackLinkOptions{keys: keys, ttl: ttl} }
}

// ackLink is what lets a responder acknowledge a page: the link, its
// signed token (for channels that build callback URLs of their own) and the
// short code a text asks to reply with.
type ackLink = acklink.Link

// link returns what lets responder acknowledge the incident's current
// episode, valid for the ttl from now; false when there is no public URL,
// no key yet, or nothing to sign (an incident not yet triggered, or no
// responder).
func (o ackLinkOptions) link(publicURL string, inc *klaxonv1alpha1.Incident, responder string, now time.Time) (ackLink, bool) {
	s, ok := o.keys.Signer()
	if !ok || publicURL == "" || o.ttl <= 0 {
		return ackLink{}, false
	}
	c := acklink.Claims{
		Namespace: inc.Namespace, Name: inc.Name, UID: string(inc.UID),
		Episode: inc.Status.Episode, Responder: responder, Expires: now.Add(o.ttl),
	}
	if c.Validate() != nil {
		return ackLink{}, false
	}
	return s.Link(publicURL, c), true
}

// bundleLink returns the link that acknowledges, as responder, every
// incident that records the bundle, signed like an acknowledge link and
// valid as long; "" when pages carry no links.
func (o ackLinkOptions) bundleLink(publicURL, namespace, bundle, responder string, now time.Time) string {
	s, ok := o.keys.Signer()
	if !ok || publicURL == "" || o.ttl <= 0 {
		return ""
	}
	c := acklink.BundleClaims{Namespace: namespace, Bundle: bundle, Responder: responder, Expires: now.Add(o.ttl)}
	if c.Validate() != nil {
		return ""
	}
	return s.BundleURL(publicURL, c)
}
