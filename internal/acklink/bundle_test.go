package acklink

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func testBundleClaims() BundleClaims {
	return BundleClaims{Namespace: "payments", Bundle: "b-ada-20261123t100000", Responder: "ada", Expires: now.Add(24 * time.Hour)}
}

func TestBundleRoundTrip(t *testing.T) {
	s := mustSigner(t, testKey)
	longest := BundleClaims{Namespace: strings.Repeat("n", MaxNamespaceLength), Bundle: strings.Repeat("b", MaxBundleLength),
		Responder: strings.Repeat("r", MaxResponderLength), Expires: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}
	for name, c := range map[string]BundleClaims{
		"typical":        testBundleClaims(),
		"longest claims": longest,
		"expiry to a second": func() BundleClaims {
			c := testBundleClaims()
			c.Expires = now.Add(time.Minute + 500*time.Millisecond)
			return c
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			token := s.SignBundle(c)
			if len(token) > MaxTokenLength {
				t.Fatalf("token of %d bytes, longer than %d", len(token), MaxTokenLength)
			}
			got, err := s.VerifyBundle(token, now)
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

func TestBundleURL(t *testing.T) {
	s := mustSigner(t, testKey)
	c := testBundleClaims()
	if got, want := s.BundleURL("https://klaxon.example.com/", c), "https://klaxon.example.com/ack-all/"+s.SignBundle(c); got != want {
		t.Errorf("BundleURL = %q, want %q", got, want)
	}
}

// An acknowledge link's token and a bundle's are signed for different
// purposes: neither verifies as the other, even where the payload would
// decode.
func TestBundleAndAckTokensDoNotCrossVerify(t *testing.T) {
	s := mustSigner(t, testKey)
	ack := s.Sign(testClaims())
	if _, err := s.VerifyBundle(ack, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyBundle(ack token) = %v, want ErrBadSignature", err)
	}
	bundle := s.SignBundle(testBundleClaims())
	if _, err := s.Verify(bundle, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(bundle token) = %v, want ErrBadSignature", err)
	}
	// The same payload bytes under the other context still do not verify.
	payload, _, _ := strings.Cut(bundle, ".")
	raw, err := encoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	asAck := payload + "." + encoding.EncodeToString(s.mac(raw))
	if _, err := s.VerifyBundle(asAck, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyBundle(bundle payload with an ack MAC) = %v, want ErrBadSignature", err)
	}
}

func TestVerifyBundleRefuses(t *testing.T) {
	s := mustSigner(t, testKey)
	good := s.SignBundle(testBundleClaims())
	payload, sig, _ := strings.Cut(good, ".")
	tampered := testBundleClaims()
	tampered.Bundle = "b-other"
	sign := func(c BundleClaims) string { return s.SignBundle(c) }
	for name, tc := range map[string]struct {
		token string
		at    time.Time
		want  error
	}{
		"empty":                {"", now, ErrMalformed},
		"oversized":            {strings.Repeat("a", MaxTokenLength+1), now, ErrMalformed},
		"garbage":              {"<script>", now, ErrMalformed},
		"no signature":         {payload, now, ErrMalformed},
		"short signature":      {payload + "." + sig[:10], now, ErrMalformed},
		"other key":            {mustSigner(t, []byte(strings.Repeat("k", 32))).SignBundle(testBundleClaims()), now, ErrBadSignature},
		"payload swapped":      {strings.Split(sign(tampered), ".")[0] + "." + sig, now, ErrBadSignature},
		"expired":              {good, testBundleClaims().Expires, ErrExpired},
		"empty bundle":         {sign(BundleClaims{Namespace: "ns", Responder: "ada", Expires: now.Add(time.Hour)}), now, ErrMalformed},
		"bundle too long":      {sign(BundleClaims{Namespace: "ns", Bundle: strings.Repeat("b", MaxBundleLength+1), Responder: "ada", Expires: now.Add(time.Hour)}), now, ErrMalformed},
		"namespace too long":   {sign(BundleClaims{Namespace: strings.Repeat("n", MaxNamespaceLength+1), Bundle: "b", Responder: "ada", Expires: now.Add(time.Hour)}), now, ErrMalformed},
		"no responder":         {sign(BundleClaims{Namespace: "ns", Bundle: "b", Expires: now.Add(time.Hour)}), now, ErrMalformed},
		"no expiry":            {sign(BundleClaims{Namespace: "ns", Bundle: "b", Responder: "ada"}), now, ErrMalformed},
		"trailing bytes":       {signedPayload(s, append(encodeBundle(testBundleClaims()), 0)), now, ErrMalformed},
		"ack layout as bundle": {signedPayload(s, encode(testClaims())), now, ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := s.VerifyBundle(tc.token, tc.at)
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifyBundle = %v, want %v", err, tc.want)
			}
			if c != (BundleClaims{}) {
				t.Errorf("claims %+v returned with an error", c)
			}
		})
	}
}

// signedPayload signs raw payload bytes as a bundle token, to reach the
// decoder with layouts SignBundle never makes.
func signedPayload(s *Signer, payload []byte) string {
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(s.macIn(bundleMACContext, payload))
}

func FuzzVerifyBundle(f *testing.F) {
	s := mustSigner(f, testKey)
	good := s.SignBundle(testBundleClaims())
	f.Add(good)
	f.Add(s.Sign(testClaims()))
	f.Add("")
	f.Add(".")
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.VerifyBundle(token, now)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) {
				t.Fatalf("error %v is none of the sentinels", err)
			}
			if c != (BundleClaims{}) {
				t.Fatalf("claims %+v returned with an error", c)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("verified claims are invalid: %v", err)
		}
		if again := s.SignBundle(c); again != token {
			t.Fatalf("token %q verified, but its claims sign to %q", token, again)
		}
	})
}
