package slacktest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/test/slacktest"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

func client(t *testing.T, s *slacktest.Server, token string) *notify.Slack {
	t.Helper()
	c, err := notify.NewSlackClient(notify.SlackConfig{APIURL: s.URL, Token: token, Egress: suite.LoopbackPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// post calls method with a form and returns the HTTP status, the
// Retry-After header and Slack's answer.
func post(t *testing.T, s *slacktest.Server, method string, form url.Values, token string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+method, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body map[string]any
	if err = json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), body
}

func TestUserGroupIsSetAndChecked(t *testing.T) {
	s := slacktest.Start(t, "")
	s.AddUserGroup("S0614TZR7", "U0OLD")
	ctx := context.Background()
	if err := client(t, s, slacktest.Token).UpdateUserGroup(ctx, "S0614TZR7", []string{"U2", "U1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserGroup("S0614TZR7"); strings.Join(got, ",") != "U1,U2" {
		t.Errorf("group = %v, want U1,U2", got)
	}
	calls := s.Calls("usergroups.users.update")
	if len(calls) != 1 || calls[0].Args["users"] != "U2,U1" || calls[0].ContentType != "application/json" {
		t.Errorf("calls = %+v", calls)
	}
	for _, tc := range []struct {
		form  url.Values
		token string
		want  string
	}{
		{url.Values{"usergroup": {"S0614TZR7"}, "users": {"U1"}}, "", "not_authed"},
		{url.Values{"usergroup": {"S0614TZR7"}, "users": {"U1"}}, "xoxb-other", "invalid_auth"},
		{url.Values{"usergroup": {"S0614TZR7"}, "users": {""}}, slacktest.Token, "no_users_provided"},
		{url.Values{"usergroup": {"S0614TZR7"}, "users": {"U1,bob"}}, slacktest.Token, "invalid_users"},
		{url.Values{"usergroup": {"SNONE"}, "users": {"U1"}}, slacktest.Token, "no_such_subteam"},
	} {
		code, _, body := post(t, s, "usergroups.users.update", tc.form, tc.token)
		if code != http.StatusOK || body["ok"] != false || body["error"] != tc.want {
			t.Errorf("%v with token %q: HTTP %d %v, want ok:false error %s", tc.form, tc.token, code, body, tc.want)
		}
	}
	// A form may carry the token itself.
	code, _, body := post(t, s, "usergroups.users.update",
		url.Values{"token": {slacktest.Token}, "usergroup": {"S0614TZR7"}, "users": {"U3"}}, "")
	if code != http.StatusOK || body["ok"] != true {
		t.Errorf("form with token: HTTP %d %v", code, body)
	}
	if got, _ := s.UserGroup("S0614TZR7"); strings.Join(got, ",") != "U3" {
		t.Errorf("group = %v, want U3", got)
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	s := slacktest.Start(t, "")
	s.AddUserGroup("S1")
	s.RateLimit(1, 30*time.Second)
	code, retry, body := post(t, s, "usergroups.users.update", url.Values{"usergroup": {"S1"}, "users": {"U1"}}, slacktest.Token)
	if code != http.StatusTooManyRequests || retry != "30" || body["error"] != "ratelimited" {
		t.Errorf("HTTP %d, Retry-After %q, %v; want 429, 30, ratelimited", code, retry, body)
	}
	// The client takes it as worth a retry, and the next call goes through.
	s.RateLimit(1, time.Second)
	c := client(t, s, slacktest.Token)
	if err := c.UpdateUserGroup(context.Background(), "S1", []string{"U1"}); err == nil || notify.IsPermanent(err) {
		t.Errorf("rate limited: %v, want a retryable error", err)
	}
	if err := c.UpdateUserGroup(context.Background(), "S1", []string{"U1"}); err != nil {
		t.Errorf("after the limit: %v", err)
	}
	s.Fail("usergroups.users.update", "missing_scope")
	if err := c.UpdateUserGroup(context.Background(), "S1", []string{"U1"}); err == nil || !notify.IsPermanent(err) || !strings.Contains(err.Error(), "missing_scope") {
		t.Errorf("Fail: %v, want a permanent missing_scope", err)
	}
}

func TestMessagesAndConversations(t *testing.T) {
	s := slacktest.Start(t, "")
	c := client(t, s, slacktest.Token)
	ctx := context.Background()
	ref, err := c.Send(ctx, &notify.Message{Address: "C0123", Incident: notify.Incident{Title: "Disk full"}})
	if err != nil {
		t.Fatal(err)
	}
	ch, ts, _ := strings.Cut(ref, "/")
	if err = c.Update(ctx, ch, ts, "Acknowledged by ada", nil); err != nil {
		t.Fatal(err)
	}
	if text, _ := s.Message(ch, ts); text != "Acknowledged by ada" {
		t.Errorf("message after chat.update = %q", text)
	}
	if err = c.Update(ctx, ch, "1.2", "x", nil); err == nil || !strings.Contains(err.Error(), "message_not_found") {
		t.Errorf("chat.update of no message: %v", err)
	}
	if err = c.PostEphemeral(ctx, "C0123", "U1", "Not yours"); err != nil {
		t.Error(err)
	}
	if err = c.PostEphemeral(ctx, "C0123", "bob", "Not yours"); err == nil {
		t.Error("chat.postEphemeral to no user: want an error")
	}

	_, _, created := post(t, s, "conversations.create", url.Values{"name": {"inc-disk-full"}}, slacktest.Token)
	id, _ := created["channel"].(map[string]any)["id"].(string)
	if _, _, again := post(t, s, "conversations.create", url.Values{"name": {"inc-disk-full"}}, slacktest.Token); again["error"] != "name_taken" {
		t.Errorf("second create: %v", again)
	}
	for _, step := range []struct {
		method string
		form   url.Values
		want   any // the error, or nil
	}{
		{"conversations.invite", url.Values{"channel": {id}, "users": {"U1,U2"}}, nil},
		{"conversations.invite", url.Values{"channel": {id}, "users": {"U1"}}, "already_in_channel"},
		{"conversations.setTopic", url.Values{"channel": {id}, "topic": {"SEV1: disk full"}}, nil},
		{"conversations.archive", url.Values{"channel": {id}}, nil},
		{"conversations.archive", url.Values{"channel": {id}}, "already_archived"},
		{"conversations.invite", url.Values{"channel": {"CNONE"}, "users": {"U1"}}, "channel_not_found"},
	} {
		if _, _, body := post(t, s, step.method, step.form, slacktest.Token); body["error"] != step.want {
			t.Errorf("%s %v: %v, want error %v", step.method, step.form, body, step.want)
		}
	}
	name, topic, members, archived, ok := s.Conversation(id)
	if !ok || name != "inc-disk-full" || topic != "SEV1: disk full" || strings.Join(members, ",") != "U1,U2" || !archived {
		t.Errorf("conversation = %q %q %v archived %v", name, topic, members, archived)
	}
}

// The channel calls of Klaxon's Slack client, as Slack answers them: a
// name in use is name_taken, found again only when the bot made it; an
// invitation of a member and the archive of an archived channel are not
// errors; a rate-limited call says how long to wait.
func TestConversationCalls(t *testing.T) {
	ctx := context.Background()
	s := slacktest.Start(t, "")
	c := client(t, s, slacktest.Token)
	since := time.Now().Add(-time.Minute)

	id, err := c.CreateConversation(ctx, "inc-db")
	if err != nil || id == "" {
		t.Fatalf("CreateConversation = %q, %v", id, err)
	}
	_, err = c.CreateConversation(ctx, "inc-db")
	if code := notify.SlackErrorCode(err); code != "name_taken" || !notify.IsPermanent(err) {
		t.Fatalf("a second create: %v (code %q), want a permanent name_taken", err, code)
	}
	if found, ferr := c.FindOwnConversation(ctx, "inc-db", since); ferr != nil || found != id {
		t.Errorf("FindOwnConversation = %q, %v; want %s", found, ferr, id)
	}
	if found, ferr := c.FindOwnConversation(ctx, "inc-db", time.Now().Add(time.Hour)); ferr != nil || found != "" {
		t.Errorf("a channel made before since was found: %q, %v", found, ferr)
	}
	s.AddConversation("inc-other", "U0SOMEONE")
	if found, ferr := c.FindOwnConversation(ctx, "inc-other", since); ferr != nil || found != "" {
		t.Errorf("someone else's channel was found: %q, %v", found, ferr)
	}
	// Many channels: the one wanted is on a later page.
	for i := range 250 {
		if _, err = c.CreateConversation(ctx, "filler-"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	last, err := c.CreateConversation(ctx, "inc-last")
	if err != nil {
		t.Fatal(err)
	}
	if found, ferr := c.FindOwnConversation(ctx, "inc-last", since); ferr != nil || found != last {
		t.Errorf("FindOwnConversation past the first page = %q, %v; want %s", found, ferr, last)
	}

	for range 2 {
		if err = c.InviteToConversation(ctx, id, "U0ALICE"); err != nil {
			t.Fatalf("InviteToConversation: %v", err)
		}
	}
	if err = c.SetConversationTopic(ctx, id, "SEV1 · Triggered"); err != nil {
		t.Fatal(err)
	}
	if err = c.PostText(ctx, id, "09:00 UTC Triggered by <!channel>"); err != nil {
		t.Fatal(err)
	}
	posts := s.Calls("chat.postMessage")
	if text := posts[len(posts)-1].Args["text"]; text != "09:00 UTC Triggered by &lt;!channel&gt;" {
		t.Errorf("posted %q, want the mention escaped", text)
	}
	for range 2 {
		if err = c.ArchiveConversation(ctx, id); err != nil {
			t.Fatalf("ArchiveConversation: %v", err)
		}
	}
	name, topic, members, archived, _ := s.Conversation(id)
	if name != "inc-db" || topic != "SEV1 · Triggered" || len(members) != 1 || members[0] != "U0ALICE" || !archived {
		t.Errorf("channel %q, topic %q, members %v, archived %v", name, topic, members, archived)
	}

	s.RateLimit(1, 7*time.Second)
	err = c.InviteToConversation(ctx, last, "U0BOB")
	if after, ok := notify.RetryAfter(err); !ok || after != 7*time.Second || notify.IsPermanent(err) {
		t.Errorf("a rate-limited call: %v, Retry-After %s, %v; want a retryable error asking for 7s", err, after, ok)
	}
	if _, ok := notify.RetryAfter(c.InviteToConversation(ctx, "C404", "U0BOB")); ok {
		t.Error("a refusal without Retry-After says when to retry")
	}
}
