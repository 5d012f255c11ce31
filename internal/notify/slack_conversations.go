package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// The bounds of looking for a channel the app made (FindOwnConversation):
// pages of users.conversations, and how many. An answer is read up to
// maxAnswerBytes, which a page of this many channels stays well within.
const (
	conversationsPage     = 100
	maxConversationsPages = 20
	// maxTopicChars is Slack's limit of a channel's topic.
	maxTopicChars = 250
)

// slackConversation is the part of a channel object Klaxon reads.
type slackConversation struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Creator string `json:"creator"`
	// Created is when the channel was made, in seconds since the epoch.
	Created int64 `json:"created"`
}

// CreateConversation makes a public channel named name
// (conversations.create, with the channels:manage scope) and returns its
// ID. A name in use, by a channel or an archived one, is refused with the
// SlackError code name_taken.
func (s *Slack) CreateConversation(ctx context.Context, name string) (string, error) {
	body, err := EncodeJSON(map[string]any{"name": name})
	if err != nil {
		return "", Permanent(fmt.Errorf("encoding the Slack channel: %w", err))
	}
	var r struct {
		Channel slackConversation `json:"channel"`
	}
	if err = s.callInto(ctx, "conversations.create", body, &r); err != nil {
		return "", err
	}
	if !slackRefChannel.MatchString(r.Channel.ID) {
		return "", Permanent(errors.New("the Slack API made a channel but answered no channel ID"))
	}
	return r.Channel.ID, nil
}

// BotUser is the Slack user ID of the app's bot (auth.test).
func (s *Slack) BotUser(ctx context.Context) (string, error) {
	var r struct {
		UserID string `json:"user_id"`
	}
	if err := s.callForm(ctx, "auth.test", url.Values{}, &r); err != nil {
		return "", err
	}
	if !slackRefChannel.MatchString(r.UserID) {
		return "", Permanent(errors.New("the Slack API answered auth.test without a user ID"))
	}
	return r.UserID, nil
}

// FindOwnConversation looks among the channels the bot is in
// (users.conversations, with the channels:read scope) for the unarchived
// one named name that the bot itself created at or after since, and
// returns its ID; "" when there is none. It is how a channel made by a
// create whose answer was lost is found again.
func (s *Slack) FindOwnConversation(ctx context.Context, name string, since time.Time) (string, error) {
	bot, err := s.BotUser(ctx)
	if err != nil {
		return "", err
	}
	cursor := ""
	for range maxConversationsPages {
		args := url.Values{"types": {"public_channel,private_channel"}, "exclude_archived": {"true"},
			"limit": {strconv.Itoa(conversationsPage)}}
		if cursor != "" {
			args.Set("cursor", cursor)
		}
		var r struct {
			Channels []slackConversation `json:"channels"`
			Meta     struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if err = s.callForm(ctx, "users.conversations", args, &r); err != nil {
			return "", err
		}
		for _, c := range r.Channels {
			if c.Name == name && c.Creator == bot && !time.Unix(c.Created, 0).Before(since) && slackRefChannel.MatchString(c.ID) {
				return c.ID, nil
			}
		}
		if r.Meta.NextCursor == "" {
			return "", nil
		}
		cursor = r.Meta.NextCursor
	}
	return "", nil
}

// InviteToConversation adds user to channel (conversations.invite). A user
// already there is not an error.
func (s *Slack) InviteToConversation(ctx context.Context, channel, user string) error {
	if !slackID(channel) || !slackID(user) || strings.Contains(user, ",") {
		return Permanent(errors.New("the Slack channel and user must be IDs without spaces or commas"))
	}
	body, err := EncodeJSON(map[string]any{"channel": channel, "users": user})
	if err != nil {
		return Permanent(fmt.Errorf("encoding the Slack invitation: %w", err))
	}
	err = s.callInto(ctx, "conversations.invite", body, &struct{}{})
	if SlackErrorCode(err) == "already_in_channel" {
		return nil
	}
	return err
}

// SetConversationTopic sets channel's topic (conversations.setTopic), cut
// to Slack's 250 characters.
func (s *Slack) SetConversationTopic(ctx context.Context, channel, topic string) error {
	if !slackID(channel) {
		return Permanent(errors.New("the Slack channel must be an ID without spaces"))
	}
	body, err := EncodeJSON(map[string]any{"channel": channel, "topic": bounded.Runes(OneLine(topic), maxTopicChars)})
	if err != nil {
		return Permanent(fmt.Errorf("encoding the Slack topic: %w", err))
	}
	return s.callInto(ctx, "conversations.setTopic", body, &struct{}{})
}

// ArchiveConversation archives channel (conversations.archive). A channel
// already archived is not an error.
func (s *Slack) ArchiveConversation(ctx context.Context, channel string) error {
	if !slackID(channel) {
		return Permanent(errors.New("the Slack channel must be an ID without spaces"))
	}
	body, err := EncodeJSON(map[string]any{"channel": channel})
	if err != nil {
		return Permanent(fmt.Errorf("encoding the Slack request: %w", err))
	}
	err = s.callInto(ctx, "conversations.archive", body, &struct{}{})
	if SlackErrorCode(err) == "already_archived" {
		return nil
	}
	return err
}

// PostText posts text, plain (what would be markup is escaped), to channel
// (chat.postMessage).
func (s *Slack) PostText(ctx context.Context, channel, text string) error {
	if !slackID(channel) {
		return Permanent(errors.New("the Slack channel must be an ID without spaces"))
	}
	text = bounded.Runes(slackEscape(text), slackSectionChars)
	body, err := EncodeJSON(slackRequest{Channel: channel, Text: text, Blocks: []slackBlock{{
		Type: "section", Text: &slackText{Type: "mrkdwn", Text: text},
	}}})
	if err != nil {
		return Permanent(fmt.Errorf("encoding the Slack message: %w", err))
	}
	_, err = s.call(ctx, "chat.postMessage", body)
	return err
}
