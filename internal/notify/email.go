package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"syscall"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
)

// implicitTLSPort is the submission port that speaks TLS from the first
// byte (RFC 8314); every other port starts in plain text and upgrades
// with STARTTLS.
const implicitTLSPort = 465

// maxAddressBytes is the longest mail address SMTP carries (RFC 5321: a
// 256-byte path, brackets included).
const maxAddressBytes = 254

// EmailConfig configures mail sent through a smarthost.
type EmailConfig struct {
	// Smarthost is the SMTP server, as host:port. Port 465 speaks TLS
	// from the start; other ports upgrade with STARTTLS.
	Smarthost string
	// From is the sender, such as "Klaxon <klaxon@example.com>".
	From string
	// Username and Password, when Username is set, authenticate with SMTP
	// AUTH. PLAIN and LOGIN are used only over TLS (or to localhost).
	Username, Password string
	// RequireTLS refuses to send without TLS. Otherwise STARTTLS is used
	// when the server offers it.
	RequireTLS bool
	// TLSConfig verifies the server (RootCAs, for instance); nil means the
	// system roots. Its ServerName defaults to the smarthost's host.
	TLSConfig *tls.Config
	// Egress decides where the smarthost may be; nil applies the built-in
	// refusals only.
	Egress *egress.Policy
}

type email struct {
	host string
	port int
	// implicitTLS dials TLS rather than upgrading with STARTTLS.
	implicitTLS bool
	requireTLS  bool
	from        *netmail.Address
	username    string
	password    string
	tls         *tls.Config
	egress      *egress.Policy
}

// NewEmail returns a Sender that mails the message's address through
// c.Smarthost. Its errors are sentences fit for a condition message.
func NewEmail(c EmailConfig) (Sender, error) {
	host, portText, err := net.SplitHostPort(c.Smarthost)
	if err != nil || host == "" {
		return nil, fmt.Errorf("the smarthost %q must be host:port, such as smtp.example.com:587", c.Smarthost)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("the smarthost %q has no valid port: use 465 for TLS or 587 for STARTTLS", c.Smarthost)
	}
	from, err := parseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("the sender address is not valid: %w", err)
	}
	if c.Username == "" && c.Password != "" {
		return nil, errors.New("a password is set without a username: set both, or neither")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLSConfig != nil {
		cfg = c.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return &email{
		host:        host,
		port:        port,
		implicitTLS: port == implicitTLSPort,
		requireTLS:  c.RequireTLS,
		from:        from,
		username:    c.Username,
		password:    c.Password,
		tls:         cfg,
		egress:      c.Egress,
	}, nil
}

// parseAddress accepts one mail address, with or without a display name.
func parseAddress(s string) (*netmail.Address, error) {
	if s == "" {
		return nil, errors.New("the address is empty")
	}
	if len(s) > maxAddressBytes+200 {
		return nil, fmt.Errorf("the address is longer than %d bytes", maxAddressBytes)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a mail address: %w", s, err)
	}
	if len(a.Address) > maxAddressBytes {
		return nil, fmt.Errorf("the address is longer than %d bytes", maxAddressBytes)
	}
	return a, nil
}

// Send mails the message to m.Address. SMTP 5xx replies, an invalid
// address and a server that cannot meet the TLS or AUTH settings are
// Permanent; 4xx replies and network failures are retryable. The
// reference is always "".
func (e *email) Send(ctx context.Context, m *Message) (string, error) {
	to, err := parseAddress(m.Address)
	if err != nil {
		return "", Permanent(fmt.Errorf("the recipient is not valid: %w", err))
	}
	msg, err := e.message(m, to)
	if err != nil {
		return "", Permanent(err)
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()

	// The connection is dialled here, so that it can be closed when the
	// context ends (go-mail honours the context only while dialling) and
	// when the session fails half-way (go-mail leaves it open then).
	var conn connHolder
	defer conn.close()
	stop := context.AfterFunc(ctx, conn.close)
	defer stop()

	client, err := mail.NewClient(e.host, e.options(&conn)...)
	if err != nil {
		return "", Permanent(fmt.Errorf("configuring the mail client: %w", err))
	}
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return "", e.classify(ctx, err)
	}
	if err = client.SendWithSMTPClient(session, msg); err != nil {
		return "", e.classify(ctx, err)
	}
	// The message is accepted once DATA ends: a failed QUIT is no failure.
	_ = client.CloseWithSMTPClient(session)
	return "", nil
}

// message builds the mail: plain text, marked as sent by a machine so
// that vacation responders stay quiet (RFC 3834).
func (e *email) message(m *Message, to *netmail.Address) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(e.from)
	msg.ToMailAddress(to)
	msg.Subject(Subject(m))
	msg.SetBodyString(mail.TypeTextPlain, Text(m))
	if m.SentAt.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.SentAt)
	}
	msg.SetMessageID()
	msg.SetUserAgent("Klaxon")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	if _, err := msg.GetRecipients(); err != nil {
		return nil, fmt.Errorf("the recipient is not valid: %w", err)
	}
	return msg, nil
}

// options configures go-mail for one session.
func (e *email) options(conn *connHolder) []mail.Option {
	dialer := &egress.Dialer{Policy: e.egress, Timeout: SendTimeout}
	opts := []mail.Option{
		mail.WithPort(e.port),
		mail.WithTimeout(SendTimeout),
		mail.WithTLSConfig(e.tls),
		mail.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			conn.set(c)
			if !e.implicitTLS {
				return c, nil
			}
			// A *tls.Conn, so that go-mail's SMTP client knows the
			// session is encrypted and PLAIN may be used.
			tc := tls.Client(c, e.tls)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, err
			}
			return tc, nil
		}),
	}
	switch {
	case e.implicitTLS:
		// Already TLS: there is nothing to upgrade.
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case e.requireTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if e.username != "" {
		// PLAIN, or LOGIN, refuse to send the password in clear text
		// (except to localhost); without either, go-mail picks the
		// strongest mechanism the server offers.
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(e.username),
			mail.WithPassword(e.password))
	}
	return opts
}

// classify wraps a failed session with the smarthost's address and says
// whether it is worth retrying.
func (e *email) classify(ctx context.Context, err error) error {
	addr := net.JoinHostPort(e.host, strconv.Itoa(e.port))
	if ctx.Err() != nil {
		// The connection was closed under the session: say why.
		return Quiet(fmt.Sprintf("mailing through %s: %v", addr, context.Cause(ctx)), bounded.Bytes(OneLine(err.Error()), maxErrorBodyBytes),
			errors.Join(context.Cause(ctx), err))
	}
	// go-mail has no error value for this; its message is the only sign.
	if strings.Contains(err.Error(), "does not support STARTTLS") {
		return Permanent(Quiet(fmt.Sprintf("the mail server %s does not offer STARTTLS, and the channel requires TLS", addr), err.Error(), err))
	}
	err = Quiet(fmt.Sprintf("mailing through %s: %s", addr, smtpWords(err)), bounded.Bytes(OneLine(err.Error()), maxErrorBodyBytes), err)
	if smtpPermanent(err) {
		return Permanent(err)
	}
	return err
}

// smtpWords says in Klaxon's words why a session failed: the reply code
// of the server, not its text, which is whatever the smarthost answered.
func smtpWords(err error) string {
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) && sendErr.ErrorCode() > 0 {
		return fmt.Sprintf("the mail server answered %d", sendErr.ErrorCode())
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return fmt.Sprintf("the mail server answered %d", reply.Code)
	}
	var (
		refused *egress.RefusedError
		connect *egress.ConnectError
	)
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.As(err, &connect):
		return connect.Error()
	case certificateError(err):
		return "the mail server's certificate does not verify"
	case errors.Is(err, smtp.ErrUnencrypted), errors.Is(err, mail.ErrPlainAuthNotSupported), errors.Is(err, mail.ErrLoginAuthNotSupported):
		return "the mail server offers no way to authenticate safely over this connection"
	case errors.Is(err, mail.ErrNoSupportedAuthDiscovered):
		return "the mail server offers no authentication mechanism Klaxon supports"
	case errors.Is(err, smtp.ErrWrongHostname):
		return "the mail server's name does not match"
	case temporaryNetError(err):
		return "the connection to the mail server failed"
	}
	return "the mail session failed"
}

// certificateError reports whether the server's certificate did not verify.
func certificateError(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		hostnameErr  x509.HostnameError
		authorityErr x509.UnknownAuthorityError
		invalidErr   x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &hostnameErr) ||
		errors.As(err, &authorityErr) || errors.As(err, &invalidErr)
}

// smtpPermanent reports whether a failed session would fail again the
// same way: a 5xx reply, a certificate that does not verify, or
// authentication the server cannot do safely. Anything else, network
// failures included, is retried.
func smtpPermanent(err error) bool {
	if refusedByEgress(err) {
		return true
	}
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) {
		return !sendErr.IsTemp() && sendErr.ErrorCode() >= 500
	}
	if temporaryNetError(err) {
		return false
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return reply.Code >= 500
	}
	if certificateError(err) {
		return true
	}
	for _, target := range []error{
		smtp.ErrUnencrypted, smtp.ErrWrongHostname,
		mail.ErrNoSupportedAuthDiscovered, mail.ErrPlainAuthNotSupported, mail.ErrLoginAuthNotSupported,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// temporaryNetError reports whether err is the network failing rather than
// the server answering.
func temporaryNetError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed)
}

// connHolder keeps the session's connection so that it can be closed from
// another goroutine.
type connHolder struct {
	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

func (h *connHolder) set(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		// The context ended while dialling.
		_ = c.Close()
		return
	}
	h.conn = c
}

func (h *connHolder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.conn != nil {
		_ = h.conn.Close()
		h.conn = nil
	}
}
