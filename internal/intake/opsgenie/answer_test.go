package opsgenie

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

// The shapes are Opsgenie's (https://docs.opsgenie.com/docs/alert-api and
// https://docs.opsgenie.com/docs/response): a 202 names the result, a 422
// lists the fields at fault under errors.
func TestAnswerBodies(t *testing.T) {
	tests := map[string]struct {
		got  []byte
		want string
	}{
		"accepted": {
			got:  Accepted("43a29c5c-3dbf-4fa4-9c26-f4f71023e120", 302*time.Millisecond),
			want: `{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}`,
		},
		"unprocessable": {
			got:  unprocessable("priority", "should be one of [ P1, P2, P3, P4, P5 ]").Body("610e618e-7138-4898-9c70-c4eef2d68bf8", 5*time.Millisecond),
			want: `{"message":"Request body is not processable. Please check the errors.","errors":{"priority":"should be one of [ P1, P2, P3, P4, P5 ]"},"took":0.005,"requestId":"610e618e-7138-4898-9c70-c4eef2d68bf8"}`,
		},
		"refusal without errors": {
			got:  Refusal(http.StatusUnauthorized, "Key is not valid").Body("r", 0),
			want: `{"message":"Key is not valid","took":0.000,"requestId":"r"}`,
		},
		"negative took is zero": {
			got:  Accepted("r", -time.Second),
			want: `{"result":"Request will be processed","took":0.000,"requestId":"r"}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Fatalf("body\n got %s\nwant %s", tc.got, tc.want)
			}
		})
	}
}

func TestNewRequestID(t *testing.T) {
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewRequestID(), NewRequestID()
	if !uuid4.MatchString(a) || !uuid4.MatchString(b) || a == b {
		t.Fatalf("request ids %q and %q, want two different version 4 UUIDs", a, b)
	}
}
