package fallback

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"k8s.io/utils/clock"
)

// The forwarding surface: a replica that is not the leader POSTs the
// groups it holds to the leader's receiver at WaitingPath.
const (
	WaitingPath = "/fallback/waiting"
	// timestampHeader and signatureHeader carry the request's time (Unix
	// seconds) and its HMAC-SHA256, hex, over "time.body".
	timestampHeader = "X-Klaxon-Fallback-Timestamp"
	signatureHeader = "X-Klaxon-Fallback-Signature"
	// MaxForwardBytes bounds a forwarded body. It holds maxForwardBody,
	// the largest body a replica sends: MaxGroups groups whose key and
	// title, cleaned when noted (clean), take at most 2 bytes of JSON per
	// byte, encoded without HTML escapes (encodeGroups).
	MaxForwardBytes = 2 << 20
	maxForwardBody  = len(`{"groups":[]}`+"\n") +
		MaxGroups*(len(`{"key":"","title":""},`)+2*(MaxKeyBytes+MaxTitleBytes))
	// maxSkew is how far a request's time may be from the receiver's.
	maxSkew = 60 * time.Second
	// forwardTimeout bounds one forward: the leader answers from memory.
	forwardTimeout = 2 * time.Second
	// maxForwardReads bounds the forwarded bodies read at once: the
	// surface is on the receiver's public port, and a body is read before
	// its signature can be checked.
	maxForwardReads = 2
)

// The build fails if the largest body does not fit.
const _ = uint(MaxForwardBytes - maxForwardBody)

type forwardBody struct {
	Groups []Group `json:"groups"`
}

// encodeGroups is the body that forwards groups, at most MaxGroups of
// them. HTML escapes would make a '<' six bytes: nobody reads the body
// as HTML.
func encodeGroups(groups []Group) ([]byte, error) {
	if len(groups) > MaxGroups {
		groups = groups[:MaxGroups]
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(forwardBody{Groups: groups}); err != nil {
		return nil, fmt.Errorf("encoding the waiting groups: %w", err)
	}
	return b.Bytes(), nil
}

// Sign signs a forwarding request whose body is body, at now, with the
// key of the receiver file every replica mounts (Block.Key).
func Sign(req *http.Request, key, body []byte, now time.Time) {
	ts := now.Unix()
	req.Header.Set(timestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(signatureHeader, sign(key, ts, body))
}

// sign is the signature of body sent at ts.
func sign(key []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

var (
	errStale     = errors.New("the request's timestamp is missing or more than 60 s away")
	errSignature = errors.New("the request's signature does not match")
	// errLeaderBusy is a leader that answered 503: it is alive, and takes
	// the groups on a later tick.
	errLeaderBusy = errors.New("the leader is busy")
)

// checkHeaders checks what can be checked before the body is read: a
// timestamp within maxSkew and a signature of the right form. It returns
// the timestamp and the signature.
func checkHeaders(now time.Time, tsHeader, sigHeader string) (int64, []byte, error) {
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return 0, nil, errStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return 0, nil, errStale
	}
	sig, err := hex.DecodeString(sigHeader)
	if err != nil || len(sig) != sha256.Size {
		return 0, nil, errSignature
	}
	return ts, sig, nil
}

// verify checks a forwarded request's timestamp and signature.
func verify(key []byte, now time.Time, tsHeader, sigHeader string, body []byte) error {
	ts, got, err := checkHeaders(now, tsHeader, sigHeader)
	if err != nil {
		return err
	}
	want, _ := hex.DecodeString(sign(key, ts, body))
	if !hmac.Equal(got, want) {
		return errSignature
	}
	return nil
}

// ServeHTTP takes the groups a replica forwards (POST WaitingPath):
// 401 for a bad signature or timestamp, 409 when this replica is not the
// leader, 413 for a body over MaxForwardBytes, 503 while other bodies are
// being read, 204 once merged into this replica's waiting groups.
func (p *Pager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, msg := p.serveWaiting(w, r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.WriteHeader(code)
	if msg != "" {
		_, _ = fmt.Fprintln(w, msg)
	}
}

func (p *Pager) serveWaiting(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "method " + r.Method + " is not allowed: forwarded groups are POSTed"
	}
	if r.ContentLength > MaxForwardBytes {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxForwardBytes)
	}
	// A request that cannot be signed takes no read slot.
	if _, _, err := checkHeaders(p.clock.Now(), r.Header.Get(timestampHeader), r.Header.Get(signatureHeader)); err != nil {
		return http.StatusUnauthorized, err.Error()
	}
	// Replicas that each take the other for the leader would hand their
	// groups back and forth, and neither would send: the sender sends
	// itself on this answer.
	if _, self := p.cfg.Leader(); !self {
		return http.StatusConflict, "this replica is not the leader"
	}
	// A slow body holds its slot for a forward's time at most, not for
	// the receiver's read timeout. A socket's deadline is wall-clock time,
	// whatever clock the Pager runs on. Not every writer supports it.
	_ = http.NewResponseController(w).SetReadDeadline(clock.RealClock{}.Now().Add(forwardTimeout))
	select {
	case p.reads <- struct{}{}:
		defer func() { <-p.reads }()
	default:
		return http.StatusServiceUnavailable, "busy reading other forwarded groups; retry later"
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxForwardBytes+1))
	if err != nil {
		return http.StatusBadRequest, "reading the request body failed"
	}
	if len(body) > MaxForwardBytes {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxForwardBytes)
	}
	now := p.clock.Now()
	if err := verify(p.key, now, r.Header.Get(timestampHeader), r.Header.Get(signatureHeader), body); err != nil {
		return http.StatusUnauthorized, err.Error()
	}
	var fb forwardBody
	if err := json.Unmarshal(body, &fb); err != nil {
		return http.StatusBadRequest, "the request body is not a JSON list of groups"
	}
	if len(fb.Groups) > MaxGroups {
		fb.Groups = fb.Groups[:MaxGroups]
	}
	p.mu.Lock()
	for _, g := range fb.Groups {
		p.t.note(now, g)
	}
	p.mu.Unlock()
	return http.StatusNoContent, ""
}

// forward POSTs groups to the leader's receiver at peer (host:port). An
// answer of 503 is errLeaderBusy.
func (p *Pager) forward(ctx context.Context, peer string, groups []Group) error {
	body, err := encodeGroups(groups)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+peer+WaitingPath, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("forwarding the waiting groups to %s: %w", peer, err)
	}
	req.Header.Set("Content-Type", "application/json")
	Sign(req, p.key, body, p.clock.Now())
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("forwarding the waiting groups to %s: %w", peer, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode == http.StatusServiceUnavailable {
		return fmt.Errorf("forwarding the waiting groups to %s: %w", peer, errLeaderBusy)
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("forwarding the waiting groups to %s: answered HTTP %d", peer, resp.StatusCode)
	}
	return nil
}
