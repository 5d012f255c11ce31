package receiver

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// Limits of a slash command's text.
const (
	// maxCommandTextBytes bounds the text after the command; Slack sends
	// at most 4000 characters of a message.
	maxCommandTextBytes = 4000
	// maxCommandTokens bounds the words a command is split into.
	maxCommandTokens = 64
	// maxCoverFor bounds how long a cover from Slack lasts.
	maxCoverFor = 7 * 24 * time.Hour
	// defaultCoverFor is how long a cover lasts without --for.
	defaultCoverFor = time.Hour
)

// slashCommand is the text of a /klaxon command, parsed.
type slashCommand struct {
	verb string
	// args are the words that are not flags, in order.
	args []string
	// The flags, empty when not given.
	severity, service, schedule, namespace, incident string
	coverFor                                         time.Duration
}

// commandVerbs are the verbs /klaxon knows, with the flags each takes.
var commandVerbs = map[string][]string{
	"declare": {"sev", "service", "namespace"},
	"ack":     {"incident", "namespace"},
	"resolve": {"incident", "namespace"},
	"update":  {"incident", "namespace"},
	"oncall":  {"namespace"},
	"cover":   {"for", "schedule", "namespace"},
	"help":    nil,
}

// slashCommandUsage is the answer to help and to a command that does not
// parse.
const slashCommandUsage = "Usage of /klaxon:\n" +
	"• `/klaxon declare \"<title>\" [--sev SEV1|SEV2|SEV3|SEV4] [--service <name>]`: declare an incident (SEV3 unless said)\n" +
	"• `/klaxon ack [incident]`: acknowledge it\n" +
	"• `/klaxon resolve [incident]`: resolve it\n" +
	"• `/klaxon update [incident] <text>`: post a stakeholder update\n" +
	"• `/klaxon oncall [schedule]`: who is on call now\n" +
	"• `/klaxon cover <from> <to> [--for 3h] [--schedule <name>]`: put <to> on call in place of <from>, from now\n" +
	"• `/klaxon help`: this text\n" +
	"In an incident's own channel, ack, resolve and update act on that incident, and all the words of update are its text; " +
	"elsewhere name the incident, as a word or with `--incident <name>`.\n" +
	"Add `--namespace <ns>` when one Slack app serves several namespaces."

// tokenize splits text into words at white space. A word may be quoted
// with double quotes (straight or the curly ones Slack's editor types),
// which keep white space; a backslash in a quoted word keeps the next
// character.
func tokenize(text string) ([]string, error) {
	if len(text) > maxCommandTextBytes {
		return nil, fmt.Errorf("the command is %d bytes long; at most %d", len(text), maxCommandTextBytes)
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("the command is not valid UTF-8")
	}
	var (
		words  []string
		word   strings.Builder
		inWord bool
		quote  rune // the closing quote while in a quoted stretch
		escape bool
	)
	for _, r := range text {
		switch {
		case escape:
			word.WriteRune(r)
			escape = false
		case quote != 0 && r == '\\':
			escape = true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '"':
			quote, inWord = '"', true
		case r == '“':
			quote, inWord = '”', true
		case unicode.IsSpace(r):
			if inWord {
				if len(words) == maxCommandTokens {
					return nil, fmt.Errorf("the command has more than %d words", maxCommandTokens)
				}
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escape {
		return nil, errors.New("a quote is not closed")
	}
	if inWord {
		if len(words) == maxCommandTokens {
			return nil, fmt.Errorf("the command has more than %d words", maxCommandTokens)
		}
		words = append(words, word.String())
	}
	return words, nil
}

// parseSlashCommand parses the text of a /klaxon command. An empty text
// is help.
func parseSlashCommand(text string) (slashCommand, error) {
	var c slashCommand
	words, err := tokenize(text)
	if err != nil {
		return c, err
	}
	if len(words) == 0 {
		return slashCommand{verb: "help"}, nil
	}
	c.verb = strings.ToLower(words[0])
	flags, ok := commandVerbs[c.verb]
	if !ok {
		return c, fmt.Errorf("unknown command %.40q", words[0])
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "--") {
			c.args = append(c.args, w)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(w, "--"), "=")
		if name == "severity" {
			name = "sev"
		}
		if !slices.Contains(flags, name) {
			return c, fmt.Errorf("%s takes no flag --%.40s", c.verb, name)
		}
		if !hasValue {
			if i+1 == len(words) {
				return c, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = words[i]
		}
		if err = c.setFlag(name, value); err != nil {
			return c, err
		}
	}
	err = c.check()
	return c, err
}

func (c *slashCommand) setFlag(name, value string) error {
	switch name {
	case "sev":
		sev := strings.ToUpper(value)
		switch klaxonv1alpha1.Severity(sev) {
		case klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh, klaxonv1alpha1.SeverityModerate, klaxonv1alpha1.SeverityLow:
			c.severity = sev
		default:
			return fmt.Errorf("unknown severity %.20q: use SEV1, SEV2, SEV3 or SEV4", value)
		}
	case "service":
		c.service = value
	case "schedule":
		c.schedule = value
	case "namespace":
		c.namespace = value
	case "incident":
		if value == "" {
			return errors.New("--incident needs an incident name")
		}
		c.incident = value
	case "for":
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 || d > maxCoverFor {
			return fmt.Errorf("--for takes a duration such as 3h, at most %s; got %.20q", maxCoverFor, value)
		}
		c.coverFor = d
	}
	return nil
}

// check says what is missing from, or too much in, the command's words.
func (c *slashCommand) check() error {
	n := len(c.args)
	switch c.verb {
	case "declare":
		if n == 0 || strings.TrimSpace(strings.Join(c.args, " ")) == "" {
			return errors.New("declare needs a title, such as /klaxon declare \"Checkout returns 500\"")
		}
	case "ack", "resolve":
		// No name is the incident of the channel the command is typed in.
		switch {
		case n > 1:
			return fmt.Errorf("%s takes at most one incident name; got %d words", c.verb, n)
		case n == 1 && c.incident != "":
			return fmt.Errorf("%s names the incident twice: as a word and with --incident", c.verb)
		}
	case "update":
		// Which words are the incident's name depends on the channel the
		// command is typed in (commandTarget).
		if n == 0 || strings.TrimSpace(strings.Join(c.args, " ")) == "" {
			return errors.New("update needs the text of the update")
		}
	case "oncall":
		if n > 1 {
			return fmt.Errorf("oncall takes at most one schedule name; got %d words", n)
		}
	case "cover":
		if n != 2 {
			return fmt.Errorf("cover takes two people, who is covered and who covers; got %d words", n)
		}
		if c.coverFor == 0 {
			c.coverFor = defaultCoverFor
		}
	case "help":
	}
	return nil
}

// text is the declared incident's title, or the update's text: the words
// after those the command names.
func (c *slashCommand) text(from int) string {
	return strings.Join(c.args[from:], " ")
}
