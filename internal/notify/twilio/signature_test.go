package twilio

import (
	"net/url"
	"testing"
)

// The worked example of Twilio's webhook security documentation: auth
// token 12345, a POST to https://mycompany.com/myapp.php?foo=1&bar=2 with
// the parameters of a <Gather>.
func TestSignatureOfTheDocumentedExample(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	const want = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	if got := Signature("12345", u, params); got != want {
		t.Fatalf("Signature = %q, want %q", got, want)
	}
	if !Verify("12345", u, params, want) {
		t.Errorf("Verify refused the documented signature")
	}
	for name, c := range map[string]struct {
		token, url, sig string
		params          url.Values
	}{
		"another token":           {"12346", u, want, params},
		"another URL":             {"12345", "https://mycompany.com/myapp.php?foo=1&bar=3", want, params},
		"http instead of https":   {"12345", "http://mycompany.com/myapp.php?foo=1&bar=2", want, params},
		"a parameter changed":     {"12345", u, want, with(params, "Digits", "1")},
		"a parameter added":       {"12345", u, want, with(params, "Body", "ack")},
		"no signature":            {"12345", u, "", params},
		"no token":                {"", u, want, params},
		"the signature truncated": {"12345", u, want[:len(want)-1], params},
	} {
		if Verify(c.token, c.url, c.params, c.sig) {
			t.Errorf("%s: Verify accepted it", name)
		}
	}
}

func with(v url.Values, name, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(name, value)
	return out
}
