package twilio

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio signs its callbacks with HMAC-SHA1; the algorithm is theirs.
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// SignatureHeader carries Twilio's signature of a callback.
const SignatureHeader = "X-Twilio-Signature"

// Signature computes Twilio's signature of a callback, as its security
// documentation describes: the full URL Twilio requested (scheme, host,
// path and query, as configured), then each POST parameter's name and
// value, sorted by name, all concatenated and signed with HMAC-SHA1 keyed
// by the account's auth token, in base64. Parameters that repeat sign each
// value, in sorted order.
func Signature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		values := append([]string(nil), params[name]...)
		sort.Strings(values)
		for _, v := range values {
			b.WriteString(name)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Twilio's signature of a callback to
// fullURL with params, compared in constant time. An empty signature or
// auth token never verifies.
func Verify(authToken, fullURL string, params url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	want := Signature(authToken, fullURL, params)
	return hmac.Equal([]byte(want), []byte(signature))
}
