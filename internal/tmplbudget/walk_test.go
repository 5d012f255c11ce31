package tmplbudget

import (
	"errors"
	"slices"
	"testing"
	"text/template/parse"
)

func TestWalk(t *testing.T) {
	text := `{{if .A}}{{printf "a"}}{{else if .B}}{{range .C}}{{(printf "b").X}}{{end}}{{else}}{{with $x := .D}}{{template "t" (printf "c")}}{{template "u"}}{{end}}{{end}}`
	set, err := parse.Parse("", text, "", "", ParseFuncs)
	if err != nil {
		t.Fatal(err)
	}
	var strs []string
	err = Walk(set[""].Root, func(n parse.Node) error {
		if s, ok := n.(*parse.StringNode); ok {
			strs = append(strs, s.Text)
		}
		return nil
	})
	if err != nil || !slices.Equal(strs, []string{"a", "b", "c"}) {
		t.Errorf("Walk found %q, %v; want a, b and c in order", strs, err)
	}

	stop := errors.New("stop")
	strs = nil
	err = Walk(set[""].Root, func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.RangeNode:
			return stop
		case *parse.StringNode:
			strs = append(strs, n.Text)
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(strs, []string{"a"}) {
		t.Errorf("Walk went on after an error: %v, found %q", err, strs)
	}
	if err := Walk(nil, func(parse.Node) error { return stop }); err != nil {
		t.Errorf("Walk(nil) = %v", err)
	}
}
