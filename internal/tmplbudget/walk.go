package tmplbudget

import "text/template/parse"

// Walk calls visit for n and every node under it, parents first: lists,
// branches and their else lists, pipes, commands, their arguments and
// chains. It stops at the first error visit returns.
func Walk(n parse.Node, visit func(parse.Node) error) error {
	if isNil(n) {
		return nil
	}
	if err := visit(n); err != nil {
		return err
	}
	var children []parse.Node
	switch n := n.(type) {
	case *parse.ListNode:
		children = n.Nodes
	case *parse.ActionNode:
		children = []parse.Node{n.Pipe}
	case *parse.IfNode:
		children = branchChildren(&n.BranchNode)
	case *parse.WithNode:
		children = branchChildren(&n.BranchNode)
	case *parse.RangeNode:
		children = branchChildren(&n.BranchNode)
	case *parse.TemplateNode:
		children = []parse.Node{n.Pipe}
	case *parse.PipeNode:
		for _, cmd := range n.Cmds {
			children = append(children, cmd)
		}
	case *parse.CommandNode:
		children = n.Args
	case *parse.ChainNode:
		children = []parse.Node{n.Node}
	default:
	}
	for _, c := range children {
		if err := Walk(c, visit); err != nil {
			return err
		}
	}
	return nil
}

func branchChildren(b *parse.BranchNode) []parse.Node {
	return []parse.Node{b.Pipe, b.List, b.ElseList}
}

// isNil reports a missing node: parse leaves optional parts (an else list,
// a template's argument) as typed nil pointers.
func isNil(n parse.Node) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *parse.ListNode:
		return n == nil
	case *parse.PipeNode:
		return n == nil
	default:
		return false
	}
}
