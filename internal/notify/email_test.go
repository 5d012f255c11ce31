package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// The mail tests deliver to mailpit, a real SMTP server (internal/test/mailpit).

// checkDelivered asserts that mailpit received m, rendered, for to.
func checkDelivered(t *testing.T, mp *mailpit.Server, m *Message, to string) {
	t.Helper()
	got, headers := mp.Only(t)
	if len(got.To) != 1 || got.To[0].Address != to {
		t.Errorf("To = %v, want %s", got.To, to)
	}
	if got.From.Address != "klaxon@example.com" || got.From.Name != "Klaxon" {
		t.Errorf("From = %v, want Klaxon <klaxon@example.com>", got.From)
	}
	if got.Subject != Subject(m) {
		t.Errorf("Subject = %q, want %q", got.Subject, Subject(m))
	}
	for _, s := range []string{
		"Incident:    payments/inc-abc",
		"Open:        https://klaxon.example.com/incidents/payments/inc-abc",
		"Acknowledge: https://klaxon.example.com/ack/payments/inc-abc?token=t1&as=alice",
	} {
		if !strings.Contains(got.Text, s) {
			t.Errorf("body lacks %q:\n%s", s, got.Text)
		}
	}
	if h := headers["Auto-Submitted"]; !slices.Equal(h, []string{"auto-generated"}) {
		t.Errorf("Auto-Submitted = %q, want auto-generated", h)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost
// and its key to dir, and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailpit test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func newTestEmail(t *testing.T, cfg EmailConfig) Sender {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Klaxon <klaxon@example.com>"
	}
	if cfg.Egress == nil {
		cfg.Egress = loopback
	}
	s, err := NewEmail(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEmailPlain(t *testing.T) {
	mp := mailpit.Start(t)
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP})
	m := sample()
	ref, err := s.Send(testContext(t), m)
	if err != nil || ref != "" {
		t.Fatalf("Send = %q, %v; want \"\", nil", ref, err)
	}
	checkDelivered(t, mp, m, "alice@example.com")
}

func TestEmailSTARTTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	// Mailpit refuses MAIL FROM before STARTTLS: delivery proves the
	// upgrade.
	mp := mailpit.Start(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls")
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, RequireTLS: true, TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	m := sample()
	if _, err := s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, mp, m, "alice@example.com")
}

func TestEmailSTARTTLSOpportunistic(t *testing.T) {
	cert, key, pool := selfSigned(t)
	mp := mailpit.Start(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls")
	// RequireTLS off still upgrades when the server offers STARTTLS.
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	if _, err := s.Send(testContext(t), sample()); err != nil {
		t.Fatal(err)
	}
	if n := len(mp.Messages(t)); n != 1 {
		t.Errorf("mailpit holds %d messages, want 1", n)
	}
}

func TestEmailUntrustedCertificateIsPermanent(t *testing.T) {
	cert, key, _ := selfSigned(t)
	mp := mailpit.Start(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, RequireTLS: true}) // system roots
	_, err := s.Send(testContext(t), sample())
	if !IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Send = %v, want a permanent certificate error", err)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("mailpit holds %d messages, want none", n)
	}
}

func TestEmailImplicitTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	mp := mailpit.Start(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-tls")
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, RequireTLS: true, TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	// Port 465 cannot be bound here: take the path it selects.
	s.(*email).implicitTLS = true
	m := sample()
	if _, err := s.Send(testContext(t), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, mp, m, "alice@example.com")
}

func TestEmailPort465IsImplicitTLS(t *testing.T) {
	for smarthost, want := range map[string]bool{"smtp.example.com:465": true, "smtp.example.com:587": false, "smtp.example.com:25": false} {
		s := newTestEmail(t, EmailConfig{Smarthost: smarthost})
		if got := s.(*email).implicitTLS; got != want {
			t.Errorf("%s: implicit TLS = %v, want %v", smarthost, got, want)
		}
	}
}

func TestEmailAuth(t *testing.T) {
	cert, key, pool := selfSigned(t)
	passwords := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(passwords, []byte("klaxon:correct-horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The password file makes mailpit require AUTH for MAIL FROM: with
	// "no credentials" refused, a delivery proves the login.
	mp := mailpit.Start(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls",
		"--smtp-auth-file", passwords)
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	t.Run("no credentials", func(t *testing.T) {
		s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, RequireTLS: true, TLSConfig: tlsCfg})
		_, err := s.Send(testContext(t), sample())
		if !IsPermanent(err) || !strings.Contains(err.Error(), "530") {
			t.Errorf("Send = %v, want a permanent 530 (authentication required)", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, RequireTLS: true, TLSConfig: tlsCfg, Username: "klaxon", Password: "wrong"})
		_, err := s.Send(testContext(t), sample())
		if !IsPermanent(err) || !strings.Contains(err.Error(), "535") {
			t.Errorf("Send = %v, want a permanent 535", err)
		}
	})
	if n := len(mp.Messages(t)); n != 0 {
		t.Fatalf("mailpit holds %d messages before a good login, want none", n)
	}
	t.Run("right password", func(t *testing.T) {
		s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, RequireTLS: true, TLSConfig: tlsCfg, Username: "klaxon", Password: "correct-horse"})
		m := sample()
		if _, err := s.Send(testContext(t), m); err != nil {
			t.Fatal(err)
		}
		checkDelivered(t, mp, m, "alice@example.com")
	})
}

func TestEmailRequireTLSWithoutSTARTTLSFails(t *testing.T) {
	mp := mailpit.Start(t) // no certificate: no STARTTLS
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP, RequireTLS: true})
	_, err := s.Send(testContext(t), sample())
	want := "the mail server " + mp.SMTP + " does not offer STARTTLS, and the channel requires TLS"
	if !IsPermanent(err) || !strings.HasPrefix(fmt.Sprint(err), want) {
		t.Errorf("Send = %v, want a permanent error starting %q", err, want)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("mailpit holds %d messages, want none", n)
	}
}

func TestEmailRejectedRecipientIsPermanent(t *testing.T) {
	mp := mailpit.Start(t, "--smtp-allowed-recipients", `@example\.com$`)
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP})
	m := sample()
	m.Address = "bob@elsewhere.org"
	_, err := s.Send(testContext(t), m)
	if !IsPermanent(err) || !strings.Contains(err.Error(), "550") || !strings.HasPrefix(err.Error(), "mailing through "+mp.SMTP+": ") {
		t.Errorf("Send = %v, want a permanent 550 saying where it was sent", err)
	}
}

func TestEmailTemporaryRefusalIsRetryable(t *testing.T) {
	mp := mailpit.Start(t, "--enable-chaos", "--chaos-triggers", "Recipient:451:100")
	s := newTestEmail(t, EmailConfig{Smarthost: mp.SMTP})
	_, err := s.Send(testContext(t), sample())
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "451") {
		t.Errorf("Send = %v, want a retryable 451", err)
	}
}

func TestEmailInvalidRecipientIsPermanent(t *testing.T) {
	// Nothing listens there: the address is refused before dialling.
	s := newTestEmail(t, EmailConfig{Smarthost: proc.FreeAddr(t)})
	for _, addr := range []string{"", "not an address", "alice@example.com\r\nBcc: eve@example.com", "a@b, c@d"} {
		m := sample()
		m.Address = addr
		_, err := s.Send(testContext(t), m)
		if !IsPermanent(err) || !strings.HasPrefix(fmt.Sprint(err), "the recipient is not valid: ") {
			t.Errorf("address %q: Send = %v, want a permanent invalid recipient", addr, err)
		}
	}
}

func TestEmailUnreachableServerIsRetryable(t *testing.T) {
	s := newTestEmail(t, EmailConfig{Smarthost: proc.FreeAddr(t)})
	_, err := s.Send(testContext(t), sample())
	if err == nil || IsPermanent(err) {
		t.Errorf("Send = %v, want a retryable error", err)
	}
}

func TestEmailSilentServerIsCutByTheContext(t *testing.T) {
	// Accepts connections and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, acceptErr := l.Accept()
			if acceptErr != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		for c := range accepted {
			_ = c.Close()
		}
	})
	s := newTestEmail(t, EmailConfig{Smarthost: l.Addr().String()})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Send(ctx, sample())
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Send took %v, want it cut at the context's deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Errorf("Send = %v, want a retryable context.DeadlineExceeded", err)
	}
}

func TestNewEmailValidates(t *testing.T) {
	cases := map[string]struct {
		cfg  EmailConfig
		want string
	}{
		"valid":           {EmailConfig{Smarthost: "smtp.example.com:587", From: "klaxon@example.com"}, ""},
		"valid with name": {EmailConfig{Smarthost: "[::1]:25", From: "Klaxon <klaxon@example.com>", Username: "u"}, ""},
		"no port":         {EmailConfig{Smarthost: "smtp.example.com", From: "k@example.com"}, `the smarthost "smtp.example.com" must be host:port, such as smtp.example.com:587`},
		"no host":         {EmailConfig{Smarthost: ":587", From: "k@example.com"}, `the smarthost ":587" must be host:port, such as smtp.example.com:587`},
		"bad port":        {EmailConfig{Smarthost: "smtp.example.com:smtp", From: "k@example.com"}, `the smarthost "smtp.example.com:smtp" has no valid port: use 465 for TLS or 587 for STARTTLS`},
		"port too big":    {EmailConfig{Smarthost: "smtp.example.com:70000", From: "k@example.com"}, `the smarthost "smtp.example.com:70000" has no valid port: use 465 for TLS or 587 for STARTTLS`},
		"no sender":       {EmailConfig{Smarthost: "smtp.example.com:587"}, "the sender address is not valid: the address is empty"},
		"bad sender":      {EmailConfig{Smarthost: "smtp.example.com:587", From: "klaxon"}, `the sender address is not valid: "klaxon" is not a mail address: mail: missing '@' or angle-addr`},
		"password alone":  {EmailConfig{Smarthost: "smtp.example.com:587", From: "k@example.com", Password: "p"}, "a password is set without a username: set both, or neither"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := NewEmail(tc.cfg)
			if tc.want == "" {
				if err != nil || s == nil {
					t.Errorf("NewEmail = %v, %v; want a sender", s, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("NewEmail error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNewEmailKeepsTheCallersTLSConfig(t *testing.T) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	s := newTestEmail(t, EmailConfig{Smarthost: "smtp.example.com:587", TLSConfig: cfg})
	if cfg.ServerName != "" {
		t.Errorf("NewEmail changed the caller's TLS config: ServerName = %q", cfg.ServerName)
	}
	if got := s.(*email).tls; got.ServerName != "smtp.example.com" || got.MinVersion != tls.VersionTLS13 {
		t.Errorf("TLS config: ServerName %q, MinVersion %x; want smtp.example.com, TLS 1.3", got.ServerName, got.MinVersion)
	}
}
