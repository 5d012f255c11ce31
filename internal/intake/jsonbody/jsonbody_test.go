package jsonbody

import (
	"encoding/json"
	"testing"
)

type event struct {
	Name    string            `json:"name"`
	Count   int               `json:"count"`
	Tags    []string          `json:"tags"`
	Details map[string]string `json:"details"`
	Payload struct {
		Summary string `json:"summary"`
	} `json:"payload"`
	Raw json.RawMessage `json:"raw"`
}

func TestDecode(t *testing.T) {
	tests := map[string]struct {
		body string
		want *Error // Kind, Field, Want, Got, Offset compared
	}{
		"valid":                     {body: `{"name":"n","count":2,"tags":["a"],"raw":[1,{"x":null}],"unknown":true}`},
		"empty":                     {body: "", want: &Error{Kind: Empty}},
		"whitespace":                {body: " \n\t", want: &Error{Kind: Empty}},
		"cut short":                 {body: `{"name":"n",`, want: &Error{Kind: Syntax, Offset: 12}},
		"not JSON":                  {body: `xyz`, want: &Error{Kind: Syntax, Offset: 1}},
		"a string for the body":     {body: `"trigger"`, want: &Error{Kind: WrongType, Want: "an object", Got: "string"}},
		"an array for the body":     {body: `[1]`, want: &Error{Kind: WrongType, Want: "an object", Got: "array"}},
		"a number for a string":     {body: `{"name":1}`, want: &Error{Kind: WrongType, Field: "name", Want: "a string", Got: "number"}},
		"a string for a number":     {body: `{"count":"2"}`, want: &Error{Kind: WrongType, Field: "count", Want: "a number", Got: "string"}},
		"an object for an array":    {body: `{"tags":{}}`, want: &Error{Kind: WrongType, Field: "tags", Want: "an array", Got: "object"}},
		"an array for an object":    {body: `{"details":[]}`, want: &Error{Kind: WrongType, Field: "details", Want: "an object", Got: "array"}},
		"a nested field":            {body: `{"payload":{"summary":true}}`, want: &Error{Kind: WrongType, Field: "payload.summary", Want: "a string", Got: "bool"}},
		"a number for a map's item": {body: `{"details":{"a":1}}`, want: &Error{Kind: WrongType, Field: "details", Want: "a string", Got: "number"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var v event
			got := Decode([]byte(tc.body), &v)
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("Decode = %v, want no error", got)
			case tc.want == nil:
				return
			case got == nil:
				t.Fatalf("Decode = nil, want %+v", tc.want)
			}
			if got.Kind != tc.want.Kind || got.Field != tc.want.Field || got.Want != tc.want.Want || got.Got != tc.want.Got || got.Offset != tc.want.Offset {
				t.Errorf("Decode = %+v, want %+v", got, tc.want)
			}
			if got.Error() == "" || (got.Kind != Empty && got.Unwrap() == nil) {
				t.Errorf("error %q wraps %v", got.Error(), got.Unwrap())
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"name":"n","count":1}`, `{"payload":{"summary":1}}`, `[`, `"x"`, `{"details":{"a":[]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v event
		err := Decode(body, &v)
		if err == nil {
			return
		}
		if err.Kind < Empty || err.Kind > Other || err.Error() == "" {
			t.Fatalf("error %+v", err)
		}
		if json.Valid(body) && err.Kind == Syntax {
			t.Fatalf("valid JSON %q called a syntax error: %v", body, err)
		}
	})
}
