package tmplbudget

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template/parse"
	"unicode/utf8"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// StepFunc is the name, with the number of the range appended, of the
// function Instrument puts at the start of every range body. Only a Meter of
// the sites registers it, after parsing, so a template cannot call it itself.
const StepFunc = "klaxonRangeStep"

// Weights of the work one loop iteration can do, in steps: one per node of
// the body, more for what is linear in the (bounded) data. A step is a
// fraction of a microsecond.
const (
	nodeWeight = 1
	// iterationWeight is what text/template spends on an iteration itself,
	// empty body and all: about as much as two nodes.
	iterationWeight = 2
	// linearWeight is what a node costs that walks a set of labels or the
	// alerts: calling a method such as .Alerts.Firing or
	// .Labels.SortedPairs, or starting a range, which sorts a map's keys.
	linearWeight = MeteredPairs
)

// methodWeights are the methods of the notification's types (Alertmanager's
// KV, Pairs and Alerts, and time.Time) that cost more than a field: a field
// chain naming one counts its weight. Format is linear in its layout, which
// can be as long as any string (tens of microseconds).
var methodWeights = map[string]int{
	"SortedPairs": linearWeight, "Remove": linearWeight, "Names": linearWeight, "Values": linearWeight,
	"String": linearWeight, "Firing": linearWeight, "Resolved": linearWeight,
	"Format": 4 * linearWeight, "AppendFormat": 4 * linearWeight,
}

// Site is one range of the template: what one iteration of its body
// costs, and how to name it in an error.
type Site struct {
	weight int
	action string // {{range ...}}, shortened
	where  string // line L, column C
}

// Instrument checks the parse tree of a metered template for what a budget
// cannot bound and, when there is none, puts a call of StepFunc at the start
// of every range body, so each iteration is counted against the render's
// budget. Its errors continue a sentence that starts with the field's name.
func Instrument(text string, tree *parse.Tree) ([]Site, error) {
	if tree == nil || tree.Root == nil {
		return nil, nil
	}
	c := &checker{text: text}
	if _, err := c.list(tree.Root, 0); err != nil {
		return nil, err
	}
	return c.sites, nil
}

type checker struct {
	text  string
	sites []Site
}

// where names a position of the template the way an editor does.
func (c *checker) where(pos parse.Pos) string {
	p := min(max(int(pos), 0), len(c.text))
	before := c.text[:p]
	line := 1 + strings.Count(before, "\n")
	col := 1 + utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	return fmt.Sprintf("line %d, column %d", line, col)
}

// list checks the nodes of l and returns what executing them once costs.
// depth is the number of ranges around l.
func (c *checker) list(l *parse.ListNode, depth int) (int, error) {
	if l == nil {
		return 0, nil
	}
	total := 0
	for _, n := range l.Nodes {
		w, err := c.node(n, depth)
		if err != nil {
			return 0, err
		}
		total += w
	}
	return total, nil
}

func (c *checker) node(n parse.Node, depth int) (int, error) {
	switch n := n.(type) {
	case *parse.TextNode, *parse.BreakNode, *parse.ContinueNode:
		return nodeWeight, nil
	case *parse.CommentNode:
		return 0, nil
	case *parse.ActionNode:
		w, err := c.pipe(n.Pipe)
		return nodeWeight + w, err
	case *parse.IfNode:
		return c.branch(&n.BranchNode, depth)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, depth)
	case *parse.RangeNode:
		return c.rangeNode(n, depth)
	case *parse.TemplateNode:
		return 0, fmt.Errorf("calls the template %q (%s): named templates ({{define}}, {{block}}, {{template}}) are not available in a title; write the text inline", n.Name, c.where(n.Pos))
	}
	return 0, fmt.Errorf("has an action this check does not know (%s, %s); it cannot be given a budget", n, c.where(n.Position()))
}

// branch is an if or a with: both lists count, since either may run.
func (c *checker) branch(b *parse.BranchNode, depth int) (int, error) {
	w, err := c.pipe(b.Pipe)
	if err != nil {
		return 0, err
	}
	lw, err := c.list(b.List, depth)
	if err != nil {
		return 0, err
	}
	ew, err := c.list(b.ElseList, depth)
	if err != nil {
		return 0, err
	}
	return nodeWeight + w + lw + ew, nil
}

func (c *checker) rangeNode(r *parse.RangeNode, depth int) (int, error) {
	action := bounded.Runes("{{range "+r.Pipe.String()+"}}", 60)
	if depth+1 > MaxRangeDepth {
		return 0, fmt.Errorf("nests %s (%s) %d ranges deep; a title may nest at most %d, such as the labels of each alert", action, c.where(r.Pos), depth+1, MaxRangeDepth)
	}
	if !rangeable(r.Pipe) {
		return 0, fmt.Errorf("has %s (%s): a title can range only over a field of the notification, such as .Alerts, .Alerts.Firing, $.CommonLabels or $alert.Labels; range over the field itself rather than a variable, a function's result or a pipeline", action, c.where(r.Pos))
	}
	pw, err := c.pipe(r.Pipe)
	if err != nil {
		return 0, err
	}
	bw, err := c.list(r.List, depth+1)
	if err != nil {
		return 0, err
	}
	ew, err := c.list(r.ElseList, depth)
	if err != nil {
		return 0, err
	}
	site := len(c.sites)
	c.sites = append(c.sites, Site{weight: iterationWeight + bw, action: action, where: c.where(r.Pos)})
	if r.List == nil {
		r.List = &parse.ListNode{NodeType: parse.NodeList, Pos: r.Pos}
	}
	r.List.Nodes = append([]parse.Node{stepAction(r.Pos, site)}, r.List.Nodes...)
	return nodeWeight + linearWeight + pw + ew, nil
}

// rangeable reports whether a range's pipeline is a field chain of the
// data (.Alerts, $.Alerts.Firing, $a.Labels, .Labels.Remove $.GroupLabels.Names,
// (.Labels.Remove $.GroupLabels.Names).SortedPairs), dot, or a whole number:
// values whose size the bounded view or the text itself fixes. A whole
// number as large as it likes is left to the budget, which stops it unless
// output fills up first.
func rangeable(p *parse.PipeNode) bool {
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) == 0 {
		return false
	}
	args := p.Cmds[0].Args
	switch n := args[0].(type) {
	case *parse.NumberNode:
		return len(args) == 1 && n.IsInt
	case *parse.DotNode:
		return len(args) == 1
	}
	return fieldChain(args[0])
}

// fieldChain reports whether n reads a field or method of the data.
func fieldChain(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return true
	case *parse.VariableNode:
		return len(n.Ident) > 1
	case *parse.ChainNode:
		switch base := n.Node.(type) {
		case *parse.DotNode:
			return true
		case *parse.PipeNode:
			return len(base.Decl) == 0 && len(base.Cmds) == 1 && len(base.Cmds[0].Args) > 0 && fieldChain(base.Cmds[0].Args[0])
		default:
			return fieldChain(base)
		}
	}
	return false
}

// stepAction is {{if klaxonRangeStepN}}{{end}}, N the site: a call that
// prints nothing and takes no argument, the cheapest text/template makes.
func stepAction(pos parse.Pos, site int) parse.Node {
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{parse.NewIdentifier(stepFuncName(site)).SetPos(pos)}}
	return &parse.IfNode{BranchNode: parse.BranchNode{
		NodeType: parse.NodeIf, Pos: pos,
		Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}},
		List: &parse.ListNode{NodeType: parse.NodeList, Pos: pos},
	}}
}

func stepFuncName(site int) string { return StepFunc + strconv.Itoa(site) }

func (c *checker) pipe(p *parse.PipeNode) (int, error) {
	if p == nil {
		return 0, nil
	}
	if p.IsAssign {
		return 0, fmt.Errorf("assigns to %s with = (%s): a title can only declare variables, with :=; declare a new variable instead of changing one", p.Decl[0], c.where(p.Pos))
	}
	total := nodeWeight * len(p.Decl)
	for _, cmd := range p.Cmds {
		total += nodeWeight
		for _, arg := range cmd.Args {
			w, err := c.arg(arg)
			if err != nil {
				return 0, err
			}
			total += w
		}
		if err := checkLiteralArgs(cmd); err != nil {
			return 0, fmt.Errorf("has %s (%s): %w", bounded.Runes(cmd.String(), 60), c.where(cmd.Pos), err)
		}
	}
	return total, nil
}

// checkLiteralArgs checks, as rendering would, the printf format or the
// regular expression a command writes as a literal, so the author hears of
// a bad one now rather than when an alert fires.
func checkLiteralArgs(cmd *parse.CommandNode) error {
	if len(cmd.Args) < 2 {
		return nil
	}
	id, ok := cmd.Args[0].(*parse.IdentifierNode)
	if !ok {
		return nil
	}
	lit, ok := cmd.Args[1].(*parse.StringNode)
	if !ok {
		return nil
	}
	switch id.Ident {
	case "printf":
		return CheckFormat(lit.Text)
	case "match", "reReplaceAll":
		// An invalid expression is, like other errors, left to delivery,
		// where the title falls back and says why.
		if _, err := CheckRegexp(id.Ident, lit.Text); errors.Is(err, ErrBudget) {
			return err
		}
	}
	return nil
}

func (c *checker) arg(n parse.Node) (int, error) {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		if n.Ident == "call" {
			return 0, fmt.Errorf("uses call (%s): calling function values is not available in a title", c.where(n.Pos))
		}
		return nodeWeight, nil
	case *parse.FieldNode:
		return chainWeight(n.Ident), nil
	case *parse.VariableNode:
		return chainWeight(n.Ident[1:]), nil
	case *parse.ChainNode:
		w, err := c.arg(n.Node)
		return w + chainWeight(n.Field), err
	case *parse.PipeNode:
		return c.pipe(n)
	}
	return nodeWeight, nil
}

func chainWeight(idents []string) int {
	w := nodeWeight
	for _, id := range idents {
		w += methodWeights[id]
	}
	return w
}
