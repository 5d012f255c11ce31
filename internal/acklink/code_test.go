package acklink

import (
	"testing"
	"time"
)

func TestCode(t *testing.T) {
	key := make([]byte, MinKeyLength)
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	base := Claims{Namespace: "payments", Name: "db-down", UID: "u-1", Episode: 1, Responder: "alice", Expires: time.Unix(100, 0)}
	code := s.Code(base)
	if len(code) != CodeDigits {
		t.Fatalf("code %q has %d characters, want %d", code, len(code), CodeDigits)
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			t.Fatalf("code %q is not all digits", code)
		}
	}
	later := base
	later.Expires = time.Unix(999999, 0)
	if got := s.Code(later); got != code {
		t.Errorf("the code changed with the expiry: %q, then %q", code, got)
	}
	changes := map[string]func(*Claims){
		"namespace": func(c *Claims) { c.Namespace = "orders" },
		"name":      func(c *Claims) { c.Name = "db-up" },
		"UID":       func(c *Claims) { c.UID = "u-2" },
		"episode":   func(c *Claims) { c.Episode = 2 },
		"responder": func(c *Claims) { c.Responder = "bob" },
		// The lengths are part of the MAC: moving a byte between fields
		// is another code.
		"a byte moved between fields": func(c *Claims) { c.Namespace, c.Name = "paymentsd", "b-down" },
	}
	for what, change := range changes {
		c := base
		change(&c)
		if got := s.Code(c); got == code {
			t.Errorf("changing the %s kept the code %q", what, code)
		}
	}
	other, err := NewSigner(append([]byte{1}, key[1:]...))
	if err != nil {
		t.Fatal(err)
	}
	if other.Code(base) == code {
		t.Errorf("another key made the same code %q", code)
	}
}
