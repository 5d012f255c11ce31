package twilio

import "testing"

func TestPauseAndRedirect(t *testing.T) {
	got := string(PauseAndRedirect(2, "https://k.example/voice?t=x&s=2"))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Pause length="2"></Pause><Redirect method="POST">https://k.example/voice?t=x&amp;s=2</Redirect></Response>`
	if got != want {
		t.Errorf("PauseAndRedirect =\n%s\nwant\n%s", got, want)
	}
}
