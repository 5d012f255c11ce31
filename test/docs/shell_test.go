package docs

import (
	"regexp"
	"strings"
)

// command is one shell command of a README block, with the lines it spans.
type command struct {
	// text is the command as written, continuation lines and here-document
	// included.
	text string
	// line is the 1-based README line it starts on.
	line int
}

// heredocStart finds a here-document's delimiter: <<WORD, <<'WORD',
// <<"WORD" or <<-WORD.
var heredocStart = regexp.MustCompile(`<<-?\s*(?:'([^']+)'|"([^"]+)"|([A-Za-z_][A-Za-z0-9_]*))`)

// lineState scans one line of shell and says whether the line leaves a
// quote open, ends with a continuation backslash, and which here-documents
// it starts; quote is the quote character open at the start of the line.
func lineState(l string, quote rune) (open rune, continued bool, heredocs []string) {
	rs := []rune(l)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch quote {
		case '\'':
			if r == '\'' {
				quote = 0
			}
			continue
		case '"':
			switch r {
			case '\\':
				i++
			case '"':
				quote = 0
			}
			continue
		}
		switch r {
		case '\\':
			if i == len(rs)-1 {
				return 0, true, heredocs
			}
			i++
		case '\'', '"':
			quote = r
		case '#':
			if i == 0 || rs[i-1] == ' ' || rs[i-1] == '\t' {
				return 0, false, heredocs // a comment runs to the end of the line
			}
		case '<':
			if m := heredocStart.FindStringSubmatch(string(rs[i:])); len(m) == 4 && strings.HasPrefix(string(rs[i:]), m[0]) {
				heredocs = append(heredocs, m[1]+m[2]+m[3])
				i += len([]rune(m[0])) - 1
			}
		}
	}
	return quote, false, heredocs
}

// splitCommands splits a block's lines into commands: a command runs on
// while a quote is open, a line ends with a backslash, or a here-document
// has not reached its delimiter. first is the README line of lines[0].
func splitCommands(lines []string, first int) []command {
	var (
		out      []command
		cur      []string
		start    int
		quote    rune
		pending  []string // here-document delimiters still to come
		heredocs bool     // inside a here-document's body
	)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, command{text: strings.Join(cur, "\n"), line: start})
		}
		cur = nil
	}
	for i, l := range lines {
		if len(cur) == 0 {
			if strings.TrimSpace(l) == "" {
				continue
			}
			start = first + i
		}
		cur = append(cur, l)
		if heredocs {
			if l == pending[0] {
				pending = pending[1:]
			}
			if len(pending) == 0 {
				heredocs = false
				flush()
			}
			continue
		}
		open, continued, docs := lineState(l, quote)
		quote = open
		pending = append(pending, docs...)
		switch {
		case quote != 0 || continued:
		case len(pending) > 0:
			heredocs = true
		default:
			flush()
		}
	}
	flush()
	return out
}
