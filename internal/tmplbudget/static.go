package tmplbudget

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"text/template/parse"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"
)

// Static bounds a template that runs where the operator cannot stop it:
// Alertmanager's notifiers run a receiver's template strings over the one
// alert a page becomes. Check parses a string (with text/template/parse and
// Alertmanager's functions, as Alertmanager will) and refuses it unless it
// is bounded:
//
//   - define and block are refused (no recursion, no redefined defaults);
//     template may call only the Defaults, which are checked by the same
//     rules;
//   - range may go only over a list of the alert's data, known by its Go
//     type: the alerts (StaticAlerts), or labels, annotations, their pairs,
//     names or values (at most StaticPairs), or a stringSlice of n values;
//     never over a number, a string, bytes, or anything of unknown type;
//   - a variable may be assigned (=) only a literal or a field of the data,
//     never a value computed from variables, so nothing grows from one
//     iteration to the next; range refuses assigned variables;
//   - call is refused; printf formats and the regular expressions of match
//     and reReplaceAll must be literals that CheckFormat and CheckRegexp
//     accept; each call of match and reReplaceAll is charged the cost of
//     compiling its expression, as Alertmanager compiles it at every call,
//     and a block makes at most MaxRegexpCalls of them;
//   - every value and output gets a size bound from the data's bounds (the
//     caller cuts every string of the alert to LeafBound) and each
//     function's worst case (FormatBound, reReplaceAll expansions,
//     escaping), multiplied by the iterations of the ranges around it; the
//     sum, with rangeStepBytes for each iteration of a range, must stay
//     under MaxTemplateCost per string and
//     MaxBlockTemplateCost for the block.
//
// The bound is coarse (a label value counts as 4 KiB) but it is a bound:
// what passes runs in milliseconds; Alertmanager's default templates pass
// with room to spare (the largest, email.default.html, counts 1.1 MiB).
type Static struct {
	// Defaults are the named templates a string may call, parsed with
	// ParseFuncs.
	Defaults map[string]*parse.Tree
	total    int64
	// regexpCalls counts the block's calls of match and reReplaceAll.
	regexpCalls int64
}

// Bounds of the data the static check assumes; the caller makes the alert
// fit them.
const (
	StaticAlerts = 1
	StaticPairs  = 16
	LeafBound    = 4 << 10
	DataBound    = 32 << 10
	scalarBound  = 128
	// rangeStepBytes is what the check charges each iteration of a range:
	// about what text/template allocates for one (its variables, and the
	// sorted keys of a map).
	rangeStepBytes = 128
	// MaxTemplateCost and MaxBlockTemplateCost bound the output of a string
	// and of all the strings of a block.
	MaxTemplateCost      = 16 << 20
	MaxBlockTemplateCost = 64 << 20
)

var (
	dataType    = reflect.TypeFor[*amtemplate.Data]()
	alertType   = reflect.TypeFor[amtemplate.Alert]()
	pairType    = reflect.TypeFor[amtemplate.Pair]()
	timeType    = reflect.TypeFor[time.Time]()
	stringType  = reflect.TypeFor[string]()
	boolType    = reflect.TypeFor[bool]()
	intType     = reflect.TypeFor[int]()
	stringsType = reflect.TypeFor[[]string]()
)

// ParseFuncs are the names a template may call: Alertmanager's functions
// and text/template's builtins. parse needs non-nil values only.
var ParseFuncs = func() map[string]any {
	m := map[string]any{}
	for name, fn := range amtemplate.DefaultFuncs {
		m[name] = fn
	}
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		m[name] = true
	}
	return m
}()

// Total is the cost of the strings checked so far.
func (b *Static) Total() int64 { return b.total }

// Check checks one template string and adds its cost to the block's. Its
// errors continue a sentence about the string ("it ranges over ...").
func (b *Static) Check(text string) error {
	set, err := parse.Parse("", text, "", "", ParseFuncs)
	if err != nil {
		// Alertmanager parses the same way and fails the same way, at
		// send time, without running anything.
		return nil //nolint:nilerr // A string that does not parse never runs.
	}
	if len(set) != 1 || set[""] == nil {
		return errors.New("it defines templates (define or block); call Alertmanager's own with template instead")
	}
	assigns, err := assignBounds(set[""].Root)
	if err != nil {
		return err
	}
	data := value{typ: dataType, size: DataBound, count: -1, data: true}
	c := &staticCheck{defaults: b.Defaults, mult: 1, vars: []scopeVar{{"$", data}}, assigns: assigns, regexpCalls: b.regexpCalls}
	if err := c.list(set[""].Root, data); err != nil {
		return err
	}
	if c.cost > MaxTemplateCost {
		return fmt.Errorf("it could produce %s, more than the %s allowed; loop less or print less", sizeText(c.cost), sizeText(MaxTemplateCost))
	}
	b.total = satAdd(b.total, c.cost)
	b.regexpCalls = c.regexpCalls
	if b.total > MaxBlockTemplateCost {
		return fmt.Errorf("with the block's other templates it could produce %s, more than the %s allowed", sizeText(b.total), sizeText(MaxBlockTemplateCost))
	}
	return nil
}

func sizeText(n int64) string {
	if n >= saturation {
		return "unbounded output"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// value is what the check knows of a value: its Go type (nil when
// unknown), a bound on its printed size, a bound on its elements (-1 when
// it is not a bounded list), whether it comes from the alert's data, and
// its text when it is a string literal.
type value struct {
	typ   reflect.Type
	size  int64
	count int64
	data  bool
	lit   *string
}

type scopeVar struct {
	name string
	val  value
}

type staticCheck struct {
	defaults map[string]*parse.Tree
	vars     []scopeVar
	// assigns bounds the variables the current template assigns.
	assigns map[string]int64
	// mult is the number of times the current node may run.
	mult  int64
	cost  int64
	calls []string
	// regexpCalls counts the calls of match and reReplaceAll of the block
	// so far, each once per iteration of the ranges around it.
	regexpCalls int64
}

func (c *staticCheck) add(n int64) { c.cost = satAdd(c.cost, satMul(n, c.mult)) }

func (c *staticCheck) list(l *parse.ListNode, dot value) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := c.node(n, dot); err != nil {
			return err
		}
	}
	return nil
}

func (c *staticCheck) node(n parse.Node, dot value) error {
	switch n := n.(type) {
	case *parse.TextNode:
		c.add(int64(len(n.Text)))
	case *parse.ActionNode:
		v, err := c.pipe(n.Pipe, dot, true)
		if err != nil {
			return err
		}
		if len(n.Pipe.Decl) == 0 {
			c.add(v.size)
		}
	case *parse.IfNode:
		return c.branch(&n.BranchNode, dot, false)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, dot, true)
	case *parse.RangeNode:
		return c.rangeNode(n, dot)
	case *parse.TemplateNode:
		return c.template(n, dot)
	case *parse.ListNode:
		return c.list(n, dot)
	case *parse.BreakNode, *parse.ContinueNode, *parse.CommentNode:
	default:
		return fmt.Errorf("it uses %q, which the check does not know", n.String())
	}
	return nil
}

func (c *staticCheck) branch(b *parse.BranchNode, dot value, with bool) error {
	mark := len(c.vars)
	defer func() { c.vars = c.vars[:mark] }()
	v, err := c.pipe(b.Pipe, dot, true)
	if err != nil {
		return err
	}
	inner := dot
	if with {
		inner = v
	}
	if err := c.list(b.List, inner); err != nil {
		return err
	}
	return c.list(b.ElseList, dot)
}

func (c *staticCheck) rangeNode(n *parse.RangeNode, dot value) error {
	mark := len(c.vars)
	defer func() { c.vars = c.vars[:mark] }()
	v, err := c.pipe(n.Pipe, dot, false)
	if err != nil {
		return err
	}
	if v.count < 0 {
		return fmt.Errorf("it ranges over %q, which is not a list of the alert's data: range over .Alerts, .Labels, .Annotations, their SortedPairs, Names or Values, or a stringSlice", pipeText(n.Pipe))
	}
	elem := elemOf(v)
	switch len(n.Pipe.Decl) {
	case 1:
		c.declare(n.Pipe.Decl[0].Ident[0], elem)
	case 2:
		key := value{typ: intType, size: scalarBound, count: -1}
		if v.typ != nil && v.typ.Kind() == reflect.Map {
			key = value{typ: v.typ.Key(), size: LeafBound, count: -1, data: true}
		}
		c.declare(n.Pipe.Decl[0].Ident[0], key)
		c.declare(n.Pipe.Decl[1].Ident[0], elem)
	}
	saved := c.mult
	c.mult = satMul(c.mult, max(v.count, 1))
	// An iteration costs even with nothing to print: nested ranges with
	// empty bodies multiply to millions of them.
	c.add(rangeStepBytes)
	err = c.list(n.List, elem)
	c.mult = saved
	if err != nil {
		return err
	}
	return c.list(n.ElseList, dot)
}

func (c *staticCheck) template(n *parse.TemplateNode, dot value) error {
	tree, ok := c.defaults[n.Name]
	if !ok {
		return fmt.Errorf("it calls template %q, which is not one of Alertmanager's default templates", n.Name)
	}
	if slices.Contains(c.calls, n.Name) {
		return fmt.Errorf("template %q calls itself", n.Name)
	}
	arg := value{count: -1}
	if n.Pipe != nil {
		v, err := c.pipe(n.Pipe, dot, true)
		if err != nil {
			return err
		}
		arg = v
	}
	assigns, err := assignBounds(tree.Root)
	if err != nil {
		return fmt.Errorf("in template %q: %w", n.Name, err)
	}
	// A called template sees only its argument, as $ and as dot.
	savedVars, savedAssigns := c.vars, c.assigns
	c.vars, c.assigns = []scopeVar{{"$", arg}}, assigns
	c.calls = append(c.calls, n.Name)
	err = c.list(tree.Root, arg)
	c.calls = c.calls[:len(c.calls)-1]
	c.vars, c.assigns = savedVars, savedAssigns
	if err != nil {
		return fmt.Errorf("in template %q: %w", n.Name, err)
	}
	return nil
}

func (c *staticCheck) pipe(p *parse.PipeNode, dot value, declare bool) (value, error) {
	if p == nil {
		return value{count: -1}, nil
	}
	var v value
	for i, cmd := range p.Cmds {
		var final *value
		if i > 0 {
			final = &v
		}
		next, err := c.command(cmd, dot, final)
		if err != nil {
			return value{}, err
		}
		v = next
	}
	if declare && !p.IsAssign {
		for _, d := range p.Decl {
			c.declare(d.Ident[0], v)
		}
	}
	return v, nil
}

// declare adds a variable. One that is assigned somewhere in the template
// may hold any of its values: its bound covers them all, and range refuses
// it, as its type may change.
func (c *staticCheck) declare(name string, v value) {
	if bound, ok := c.assigns[name]; ok {
		v = value{size: max(v.size, bound), count: -1, data: true}
	}
	c.vars = append(c.vars, scopeVar{name, v})
}

// assignBounds finds the assignments (=) of a template. Each must set a
// literal or a field of the data, never a value computed from variables, so
// nothing grows from one iteration of a range to the next; it returns the
// bound of each assigned variable's values.
func assignBounds(root parse.Node) (map[string]int64, error) {
	bounds := map[string]int64{}
	err := Walk(root, func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.RangeNode:
			if n.Pipe != nil && n.Pipe.IsAssign {
				return fmt.Errorf("it assigns range variables in %q; declare them with := instead", pipeText(n.Pipe))
			}
		case *parse.PipeNode:
			if !n.IsAssign {
				return nil
			}
			bound, err := assignedBound(n)
			if err != nil {
				return err
			}
			for _, d := range n.Decl {
				bounds[d.Ident[0]] = max(bounds[d.Ident[0]], bound)
			}
		default:
		}
		return nil
	})
	return bounds, err
}

func assignedBound(p *parse.PipeNode) (int64, error) {
	refuse := fmt.Errorf("it assigns %q; a variable may be assigned (=) only a literal or a field of the data", pipeText(p))
	for _, d := range p.Decl {
		if d.Ident[0] == "$" {
			return 0, refuse
		}
	}
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return 0, refuse
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.StringNode:
		return int64(len(a.Text)), nil
	case *parse.NumberNode:
		return int64(len(a.Text)) + scalarBound, nil
	case *parse.BoolNode, *parse.NilNode:
		return scalarBound, nil
	case *parse.DotNode, *parse.FieldNode:
		return DataBound, nil
	case *parse.VariableNode:
		if a.Ident[0] == "$" {
			return DataBound, nil
		}
	default:
	}
	return 0, refuse
}

func (c *staticCheck) command(cmd *parse.CommandNode, dot value, final *value) (value, error) {
	args := make([]value, 0, len(cmd.Args))
	for _, a := range cmd.Args[1:] {
		v, err := c.arg(a, dot)
		if err != nil {
			return value{}, err
		}
		args = append(args, v)
	}
	if final != nil {
		args = append(args, *final)
	}
	switch first := cmd.Args[0].(type) {
	case *parse.IdentifierNode:
		return c.function(first.Ident, args)
	case *parse.FieldNode:
		return c.fields(dot, first.Ident, args), nil
	case *parse.ChainNode:
		base, err := c.arg(first.Node, dot)
		if err != nil {
			return value{}, err
		}
		return c.fields(base, first.Field, args), nil
	case *parse.VariableNode:
		base, err := c.variable(first.Ident[0])
		if err != nil {
			return value{}, err
		}
		if len(first.Ident) > 1 {
			return c.fields(base, first.Ident[1:], args), nil
		}
		return base, nil
	default:
		return c.arg(first, dot)
	}
}

func (c *staticCheck) arg(n parse.Node, dot value) (value, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.NilNode:
		return value{size: scalarBound, count: -1}, nil
	case *parse.BoolNode:
		return value{typ: boolType, size: scalarBound, count: -1}, nil
	case *parse.NumberNode:
		return value{typ: intType, size: int64(len(n.Text)) + scalarBound, count: -1}, nil
	case *parse.StringNode:
		text := n.Text
		return value{typ: stringType, size: int64(len(text)), count: -1, lit: &text}, nil
	case *parse.FieldNode:
		return c.fields(dot, n.Ident, nil), nil
	case *parse.ChainNode:
		base, err := c.arg(n.Node, dot)
		if err != nil {
			return value{}, err
		}
		return c.fields(base, n.Field, nil), nil
	case *parse.VariableNode:
		base, err := c.variable(n.Ident[0])
		if err != nil {
			return value{}, err
		}
		return c.fields(base, n.Ident[1:], nil), nil
	case *parse.PipeNode:
		return c.pipe(n, dot, true)
	case *parse.IdentifierNode:
		return c.function(n.Ident, nil)
	default:
		return value{}, fmt.Errorf("it uses %q, which the check does not know", n.String())
	}
}

func (c *staticCheck) variable(name string) (value, error) {
	for i := len(c.vars) - 1; i >= 0; i-- {
		if c.vars[i].name == name {
			return c.vars[i].val, nil
		}
	}
	return value{}, fmt.Errorf("it uses the undefined variable %s", name)
}

// fields follows a chain of fields, map keys and methods as text/template
