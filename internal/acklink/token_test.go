package acklink

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testKey = bytes.Repeat([]byte{0x5a}, 32)
	now     = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
)

func testClaims() Claims {
	return Claims{Namespace: "payments", Name: "checkout-latency-1", UID: "0b6c9b4e-3f0e-4d59-9a8e-3c1f5a2e7d10",
		Episode: 2, Responder: "ada", Expires: now.Add(24 * time.Hour)}
}

func mustSigner(t testing.TB, key []byte) *Signer {
	t.Helper()
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSignerRefusesShortKeys(t *testing.T) {
	if _, err := NewSigner(make([]byte, MinKeyLength-1)); err == nil {
		t.Error("a 31-byte key was accepted")
	}
	key := bytes.Repeat([]byte{1}, MinKeyLength)
	s := mustSigner(t, key)
	key[0] = 2 // the signer keeps its own copy
	if _, err := s.Verify(mustSigner(t, bytes.Repeat([]byte{1}, MinKeyLength)).Sign(testClaims()), now); err != nil {
		t.Errorf("the signer's key changed with the caller's slice: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := mustSigner(t, testKey)
	longest := Claims{Namespace: strings.Repeat("n", MaxNamespaceLength), Name: strings.Repeat("a", MaxNameLength),
		UID: strings.Repeat("u", MaxUIDLength), Episode: 1<<31 - 1, Responder: strings.Repeat("r", MaxResponderLength),
		Expires: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}
	for name, c := range map[string]Claims{
		"typical":            testClaims(),
		"longest claims":     longest,
		"unicode responder":  func() Claims { c := testClaims(); c.Responder = "Zoë <zoe@example.com>"; return c }(),
		"expiry to a second": func() Claims { c := testClaims(); c.Expires = now.Add(time.Minute + 500*time.Millisecond); return c }(),
	} {
		t.Run(name, func(t *testing.T) {
			token := s.Sign(c)
			if len(token) > MaxTokenLength {
				t.Fatalf("token of %d bytes, longer than %d", len(token), MaxTokenLength)
			}
			got, err := s.Verify(token, now)
			if err != nil {
				t.Fatal(err)
			}
			want := c
			want.Expires = c.Expires.Truncate(time.Second).UTC()
			if got != want {
				t.Errorf("claims %+v, want %+v", got, want)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	s := mustSigner(t, testKey)
	good := s.Sign(testClaims())
	payload, sig, _ := strings.Cut(good, ".")
	other := mustSigner(t, bytes.Repeat([]byte{0x33}, 32))
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	signRaw := func(payload []byte) string {
		return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(s.mac(payload))
	}
	invalid := func(f func(*Claims)) string {
		c := testClaims()
		f(&c)
		return s.Sign(c)
	}
	cases := map[string]struct {
		token string
		at    time.Time
		want  error
	}{
		"empty":                 {"", now, ErrMalformed},
		"no dot":                {payload, now, ErrMalformed},
		"empty payload":         {"." + sig, now, ErrMalformed},
		"too long":              {strings.Repeat("A", MaxTokenLength+1), now, ErrMalformed},
		"padding":               {payload + "=." + sig, now, ErrMalformed},
		"not base64url":         {strings.Replace(good, payload[:1], "+", 1), now, ErrMalformed},
		"short signature":       {payload + "." + sig[:20], now, ErrMalformed},
		"two dots":              {good + ".x", now, ErrMalformed},
		"flipped payload byte":  {flip(good, 5), now, ErrBadSignature},
		"flipped signature":     {payload + "." + flip(sig, 3), now, ErrBadSignature},
		"other key":             {other.Sign(testClaims()), now, ErrBadSignature},
		"expired":               {good, testClaims().Expires, ErrExpired},
		"long expired":          {good, testClaims().Expires.Add(time.Hour), ErrExpired},
		"unknown version":       {signRaw(append([]byte{2}, encode(testClaims())[1:]...)), now, ErrMalformed},
		"trailing bytes":        {signRaw(append(encode(testClaims()), 0)), now, ErrMalformed},
		"truncated payload":     {signRaw(encode(testClaims())[:10]), now, ErrMalformed},
		"length past the end":   {signRaw([]byte{version, 0xff, 0xff, 0x03}), now, ErrMalformed},
		"empty responder":       {invalid(func(c *Claims) { c.Responder = "" }), now, ErrMalformed},
		"namespace too long":    {invalid(func(c *Claims) { c.Namespace = strings.Repeat("n", MaxNamespaceLength+1) }), now, ErrMalformed},
		"responder too long":    {invalid(func(c *Claims) { c.Responder = strings.Repeat("r", MaxResponderLength+1) }), now, ErrMalformed},
		"episode zero":          {invalid(func(c *Claims) { c.Episode = 0 }), now, ErrMalformed},
		"no expiry":             {invalid(func(c *Claims) { c.Expires = time.Time{} }), now, ErrMalformed},
		"signature as payload":  {sig + "." + sig, now, ErrBadSignature},
		"episode beyond int32":  {signRaw(overflowEpisode()), now, ErrMalformed},
		"verified before check": {flip(invalid(func(c *Claims) { c.Episode = 0 }), 5), now, ErrBadSignature},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := s.Verify(tc.token, tc.at)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if c != (Claims{}) {
				t.Errorf("claims %+v returned with an error", c)
			}
		})
	}
}

// overflowEpisode is a payload whose episode does not fit an int32.
func overflowEpisode() []byte {
	c := testClaims()
	b := encode(Claims{Namespace: c.Namespace, Name: c.Name, UID: c.UID, Responder: c.Responder})
	// Cut the episode and expiry encode wrote for the zero claims (1 byte
	// each) and write them anew.
	b = b[:len(b)-2]
	b = binary.AppendVarint(b, 1<<40)
	return binary.AppendVarint(b, c.Expires.Unix())
}

func TestURL(t *testing.T) {
	s := mustSigner(t, testKey)
	c := testClaims()
	for _, base := range []string{"https://klaxon.example.com", "https://klaxon.example.com/"} {
		if got, want := s.URL(base, c), "https://klaxon.example.com/ack/"+s.Sign(c); got != want {
			t.Errorf("URL(%q) = %q, want %q", base, got, want)
		}
	}
}

func TestLink(t *testing.T) {
	s := mustSigner(t, testKey)
	c := testClaims()
	l := s.Link("https://klaxon.example.com/", c)
	if l.URL != s.URL("https://klaxon.example.com", c) || l.URL != "https://klaxon.example.com/ack/"+l.Token {
		t.Errorf("link %q with token %q, want the URL's form", l.URL, l.Token)
	}
	if got, err := s.Verify(l.Token, now); err != nil || got != c {
		t.Errorf("the token verifies as %+v, %v; want %+v", got, err, c)
	}
	if l.Code != s.Code(c) || len(l.Code) != CodeDigits {
		t.Errorf("code %q, want %q", l.Code, s.Code(c))
	}
}

func TestKeyring(t *testing.T) {
	var nilRing *Keyring
	if _, ok := nilRing.Signer(); ok {
		t.Error("a nil keyring has a signer")
	}
	k := &Keyring{}
	if _, ok := k.Signer(); ok {
		t.Error("an empty keyring has a signer")
	}
	s := mustSigner(t, testKey)
	k.Set(s)
	if got, ok := k.Signer(); !ok || got != s {
		t.Errorf("Signer() = %p, %v; want %p, true", got, ok, s)
	}
}

func FuzzVerify(f *testing.F) {
	s := mustSigner(f, testKey)
	good := s.Sign(testClaims())
	f.Add(good)
	f.Add("")
	f.Add(".")
	f.Add(good[:len(good)-1])
	f.Add(strings.Replace(good, ".", "", 1))
	f.Add(encoding.EncodeToString([]byte{version, 0xff, 0xff, 0xff, 0xff, 0x0f}) + "." + encoding.EncodeToString(make([]byte, 32)))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token, now)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) {
				t.Fatalf("error %v is none of the sentinels", err)
			}
			if c != (Claims{}) {
				t.Fatalf("claims %+v returned with an error", c)
			}
			return
		}
		// Whatever verifies is valid and signs back to the same token:
		// there is one token per claims.
		if err := c.Validate(); err != nil {
			t.Fatalf("verified claims are invalid: %v", err)
		}
		if again := s.Sign(c); again != token {
			t.Fatalf("token %q verified, but its claims sign to %q", token, again)
		}
	})
}

func TestTokenHasOneSpelling(t *testing.T) {
	s := testSigner(t)
	token := s.Sign(Claims{Namespace: "ns", Name: "inc", UID: "u", Episode: 1, Responder: "ada", Expires: time.Now().Add(time.Hour)})
	for _, spelled := range []string{token[:10] + "\r\n" + token[10:], token + "\n", " " + token} {
		if _, err := s.Verify(spelled, time.Now()); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, want ErrMalformed", spelled, err)
		}
	}
}

func TestSealOpen(t *testing.T) {
	s := testSigner(t)
	sealed := s.Seal("slack-button", []byte(`{"ns":"a"}`))
	if got, err := s.Open("slack-button", sealed); err != nil || string(got) != `{"ns":"a"}` {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open("other", sealed); !errors.Is(err, ErrBadSignature) {
		t.Errorf("opened for another purpose: %v", err)
	}
	data, mac, _ := strings.Cut(sealed, ".")
	forged := encoding.EncodeToString([]byte(`{"ns":"b"}`)) + "." + mac
	if _, err := s.Open("slack-button", forged); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a changed value opened: %v", err)
	}
	for _, bad := range []string{data, data + ".\n" + mac, strings.Repeat("A", MaxSealedLength+1)} {
		if _, err := s.Open("slack-button", bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%.30q) = %v, want ErrMalformed", bad, err)
		}
	}
	other := testSigner(t)
	if _, err := other.Open("slack-button", sealed); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another key opened it: %v", err)
	}
}

// testSigner is a signer with a random key.
func testSigner(t *testing.T) *Signer {
	t.Helper()
	key := make([]byte, MinKeyLength)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return mustSigner(t, key)
}
