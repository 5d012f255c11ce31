package controller_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// TestConditionCatalogue keeps api/v1alpha1/conditions.go the whole truth:
// every reason it lists is set somewhere, and every place that sets a
// condition or reports a problem names a catalogued reason (a constant, or
// a variable holding one), never a string literal.
func TestConditionCatalogue(t *testing.T) {
	root := localcluster.RepoRoot()
	catalogue := map[string]bool{}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filepath.Join(root, "api", "v1alpha1", "conditions.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range file.Decls {
		if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, spec := range gd.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(name.Name, "Reason") {
						catalogue[name.Name] = true
					}
				}
			}
		}
	}

	// The argument that is the reason, by function name.
	reasonArg := map[string]int{"Set": 3, "waitingFor": 0, "stalledBy": 0, "report": 4}
	used := map[string]bool{}
	err = filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "klaxonv1alpha1" && strings.HasPrefix(n.Sel.Name, "Reason") {
					used[n.Sel.Name] = true
				}
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					if id, ok := fn.X.(*ast.Ident); ok && id.Name == "conditions" {
						name = fn.Sel.Name
					}
				case *ast.IndexExpr:
					if id, ok := fn.X.(*ast.Ident); ok {
						name = id.Name
					}
				}
				i, ok := reasonArg[name]
				if !ok || i >= len(n.Args) {
					return true
				}
				if lit, ok := n.Args[i].(*ast.BasicLit); ok && (name != "report" || lit.Value != `""`) {
					t.Errorf("%s: %s with the literal reason %s: add it to the catalogue", fset.Position(n.Pos()), name, lit.Value)
				}
				if sel, ok := n.Args[i].(*ast.SelectorExpr); ok && isAPI(sel.X) && !catalogue[sel.Sel.Name] {
					t.Errorf("%s: %s with %s, which is not in the catalogue", fset.Position(n.Pos()), name, sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dead []string
	for name := range catalogue {
		if !used[name] {
			dead = append(dead, name)
		}
	}
	sort.Strings(dead)
	if diff := cmp.Diff([]string(nil), dead); diff != "" {
		t.Errorf("catalogued reasons no code sets (-want +got):\n%s", diff)
	}
}

func isAPI(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == "klaxonv1alpha1"
}
