package acklink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// CodeDigits is the length of a reply code.
const CodeDigits = 6

// codeContext keeps a code's MAC apart from tokens' and sealed values'.
const codeContext = "klaxon.dev/reply-code\x00"

// Code returns the short code a text asks its reader to reply with to
// acknowledge: CodeDigits decimal digits, the same for every page of one
// episode of one incident to one responder, whatever the expiry of the
// claims. It is not a credential on its own: a reply acknowledges only when
// it comes, signed by the provider, from the number the page was sent to,
// and the code only picks which of that number's pages it answers.
func (s *Signer) Code(c Claims) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(codeContext))
	for _, f := range []string{c.Namespace, c.Name, c.UID, c.Responder} {
		m.Write(binary.AppendUvarint(nil, uint64(len(f))))
		m.Write([]byte(f))
	}
	m.Write(binary.AppendVarint(nil, int64(c.Episode)))
	sum := m.Sum(nil)
	return fmt.Sprintf("%0*d", CodeDigits, binary.BigEndian.Uint64(sum[:8])%1_000_000)
}
