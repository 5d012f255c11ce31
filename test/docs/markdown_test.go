package docs

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// block is a fenced code block of a Markdown file.
type block struct {
	// lang is the info string's first word: "sh", "yaml", or "" for none.
	lang string
	// line is the 1-based line of the opening fence.
	line int
	// lines are the block's content, fences excluded.
	lines []string
	// follows is true when only blank lines separate the block from the
	// previous one, as a command's output follows the command.
	follows bool
}

// fence opens or closes a fenced code block: three or more backticks or
// tildes, indented at most three spaces.
var fence = regexp.MustCompile("^ {0,3}(```+|~~~+)\\s*([^`\\s]*)")

// blocks returns the fenced code blocks of a Markdown text, in order.
func blocks(text string) []block {
	var (
		out         []block
		cur         *block
		marker      string
		sinceClosed = -1 // lines since the last block closed; -1 before any
		onlyBlank   = false
	)
	for i, l := range strings.Split(text, "\n") {
		if cur != nil {
			if m := fence.FindStringSubmatch(l); len(m) == 3 && strings.HasPrefix(m[1], marker) && strings.TrimSpace(l) == strings.TrimSpace(m[1]) {
				out = append(out, *cur)
				cur, sinceClosed, onlyBlank = nil, 0, true
				continue
			}
			cur.lines = append(cur.lines, l)
			continue
		}
		if m := fence.FindStringSubmatch(l); m != nil {
			cur = &block{lang: m[2], line: i + 1, follows: sinceClosed >= 0 && onlyBlank}
			marker = m[1]
			continue
		}
		if sinceClosed >= 0 {
			sinceClosed++
			if strings.TrimSpace(l) != "" {
				onlyBlank = false
			}
		}
	}
	return out
}

// heading is an ATX heading outside code blocks.
type heading struct {
	level int
	text  string
	line  int
}

var atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)

// proseLines returns the lines of a Markdown text, nil where a line is a
// fence or inside a fenced code block, so an index is a 0-based line.
func proseLines(text string) []*string {
	lines := strings.Split(text, "\n")
	out := make([]*string, len(lines))
	inCode, marker := false, ""
	for i, l := range lines {
		if m := fence.FindStringSubmatch(l); m != nil {
			switch {
			case !inCode:
				inCode, marker = true, m[1]
			case strings.HasPrefix(m[1], marker) && strings.TrimSpace(l) == strings.TrimSpace(m[1]):
				inCode = false
			}
			continue
		}
		if !inCode {
			out[i] = &lines[i]
		}
	}
	return out
}

// headings returns the ATX headings of a Markdown text outside code blocks.
func headings(text string) []heading {
	var out []heading
	for i, l := range proseLines(text) {
		if l == nil {
			continue
		}
		if m := atxHeading.FindStringSubmatch(*l); m != nil {
			out = append(out, heading{level: len(m[1]), text: m[2], line: i + 1})
		}
	}
	return out
}

var (
	inlineLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTag    = regexp.MustCompile(`<[^>]+>`)
)

// slug is the anchor GitHub gives a heading: the rendered text lower-cased,
// every character but letters, digits, marks, '_' and '-' dropped, and each
// space turned into '-'.
func slug(headingText string) string {
	text := inlineLink.ReplaceAllString(headingText, "$1")
	text = htmlTag.ReplaceAllString(text, "")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// htmlAnchor finds anchors written as HTML: <a name="x"> or id="x".
var htmlAnchor = regexp.MustCompile(`<[a-zA-Z][^>]*\s(?:name|id)="([^"]+)"`)

// anchors returns every anchor a Markdown text defines: its headings' slugs,
// a repeated slug numbered from -1 as GitHub does, and HTML anchors.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, h := range headings(text) {
		s := slug(h.text)
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	for _, m := range htmlAnchor.FindAllStringSubmatch(text, -1) {
		out[m[1]] = true
	}
	return out
}

// link is a Markdown inline link or image outside code.
type link struct {
	target string
	line   int
}

var (
	// linkTarget matches the target of [text](target) and ![alt](target),
	// with an optional title after a space.
	linkTarget = regexp.MustCompile(`\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	htmlHref   = regexp.MustCompile(`<(?:a|img)\s[^>]*(?:href|src)="([^"]+)"`)
)

// links returns the inline links and images of a Markdown text, outside
// code blocks and code spans.
func links(text string) []link {
	var out []link
	for i, l := range proseLines(text) {
		if l == nil {
			continue
		}
		line := codeSpan.ReplaceAllString(*l, "")
		for _, m := range linkTarget.FindAllStringSubmatch(line, -1) {
			out = append(out, link{target: m[1], line: i + 1})
		}
		for _, m := range htmlHref.FindAllStringSubmatch(line, -1) {
			out = append(out, link{target: m[1], line: i + 1})
		}
	}
	return out
}
