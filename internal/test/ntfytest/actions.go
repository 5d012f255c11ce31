package ntfytest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// maxActions is ntfy's limit of action buttons on a notification.
const maxActions = 3

// parseActions reads actions in JSON (an array) or in ntfy's simple
// format: actions separated by ";", each "action, label, url" and then
// key=value fields (method, body, clear, headers.Name), values quoted with
// " or ' when they hold a comma or semicolon.
func parseActions(s string) ([]Action, error) {
	s = strings.TrimSpace(s)
	var actions []Action
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &actions); err != nil {
			return nil, fmt.Errorf("actions JSON: %w", err)
		}
	} else {
		for _, def := range splitQuoted(s, ';') {
			if strings.TrimSpace(def) == "" {
				continue
			}
			a, err := parseSimpleAction(def)
			if err != nil {
				return nil, err
			}
			actions = append(actions, a)
		}
	}
	if len(actions) > maxActions {
		return nil, fmt.Errorf("%d actions, more than %d", len(actions), maxActions)
	}
	for i, a := range actions {
		switch {
		case a.Action != "view" && a.Action != "http" && a.Action != "broadcast":
			return nil, fmt.Errorf("action %d: unknown type %q", i, a.Action)
		case a.Label == "":
			return nil, fmt.Errorf("action %d: no label", i)
		case a.Action != "broadcast" && !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://"):
			return nil, fmt.Errorf("action %d: the URL must be http or https", i)
		}
	}
	return actions, nil
}

func parseSimpleAction(def string) (Action, error) {
	var a Action
	positional := []*string{&a.Action, &a.Label, &a.URL}
	pos := 0
	for _, field := range splitQuoted(def, ',') {
		field = strings.TrimSpace(field)
		key, value, isKV := strings.Cut(field, "=")
		key = strings.TrimSpace(key)
		if isKV && knownKey(key) {
			value = unquote(strings.TrimSpace(value))
			switch {
			case key == "action":
				a.Action = value
			case key == "label":
				a.Label = value
			case key == "url":
				a.URL = value
			case key == "method":
				a.Method = value
			case key == "body":
				a.Body = value
			case key == "clear":
				c, err := strconv.ParseBool(value)
				if err != nil {
					return a, fmt.Errorf("clear=%q is not a boolean", value)
				}
				a.Clear = c
			case strings.HasPrefix(key, "headers."):
				if a.Headers == nil {
					a.Headers = map[string]string{}
				}
				a.Headers[strings.TrimPrefix(key, "headers.")] = value
			}
			continue
		}
		if pos >= len(positional) {
			return a, fmt.Errorf("the field %q is neither positional nor key=value", field)
		}
		*positional[pos] = unquote(field)
		pos++
	}
	return a, nil
}

func knownKey(k string) bool {
	switch k {
	case "action", "label", "url", "method", "body", "clear", "intent":
		return true
	}
	return strings.HasPrefix(k, "headers.") || strings.HasPrefix(k, "extras.")
}

// splitQuoted splits s at sep outside quotes.
func splitQuoted(s string, sep rune) []string {
	var parts []string
	var b strings.Builder
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
			b.WriteRune(r)
		case r == '"' || r == '\'':
			quote = r
			b.WriteRune(r)
		case r == sep:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteRune(r)
		}
	}
	return append(parts, b.String())
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
