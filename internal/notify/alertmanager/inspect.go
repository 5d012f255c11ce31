package alertmanager

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"text/template/parse"

	"github.com/prometheus/alertmanager/asset"
	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"
	"gopkg.in/yaml.v2"

	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// inspection walks a loaded receiver: it refuses settings that read the
// operator's files or use its cloud identity, collects secret values, and
// checks every template string.
type inspection struct {
	secrets []string
	tmpl    tmplbudget.Static
	// allowEmail lets email_configs through (Config.AllowEmail).
	allowEmail bool
}

var (
	secretType            = reflect.TypeFor[amconfig.Secret]()
	secretTemplateURLType = reflect.TypeFor[amconfig.SecretTemplateURL]()
	commonSecretType      = reflect.TypeFor[commoncfg.Secret]()
	httpClientConfigType  = reflect.TypeFor[commoncfg.HTTPClientConfig]()
)

func (ins *inspection) inspect(rcv *amconfig.Receiver) error {
	if err := ins.walk(reflect.ValueOf(rcv), "", 0, false); err != nil {
		return err
	}
	for i, c := range rcv.SNSConfigs {
		// Without keys of its own the AWS SDK falls back on the operator's
		// credentials (environment, web identity token, instance role), and a
		// profile is read from the operator's AWS files.
		if c.Sigv4.Profile != "" {
			return fmt.Errorf("sns_configs[%d].sigv4.profile reads the operator's AWS files; give access_key and secret_key instead", i)
		}
		if c.Sigv4.AccessKey == "" || c.Sigv4.SecretKey == "" {
			return fmt.Errorf("sns_configs[%d].sigv4 needs access_key and secret_key: without them the operator's own AWS credentials would be used", i)
		}
	}
	return nil
}

// walk visits every exported field by its YAML name. Fields named *_file
// (bot_token_file, credentials_file, ca_file, ...) and http_config header
// `files` make a notifier read a path on the operator's disk, such as its
// service account token: a channel's author must not choose that.
// Reflection over the loaded configuration finds them in every integration
// and nested block, those of future Alertmanager versions included.
//
// Strings under a free-form map (PagerDuty details, Jira fields) are run
// as templates again after a YAML parse of their output: freeForm marks
// them for checkRerun.
func (ins *inspection) walk(v reflect.Value, path string, depth int, freeForm bool) error {
	if depth > maxDepth {
		return fmt.Errorf("%s nests deeper than %d levels", path, maxDepth)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if su, ok := v.Interface().(*amconfig.SecretURL); ok {
			if su.URL != nil {
				ins.addSecret(su.String())
				// Errors may quote parts of it: a webhook's signature.
				ins.addSecret(su.Path)
				ins.addSecret(su.RawQuery)
			}
			return nil
		}
		return ins.walk(v.Elem(), path, depth+1, freeForm)
	case reflect.Struct:
		noRedirects(v)
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fieldPath := path
			if name != "" {
				fieldPath = joinPath(path, name)
			}
			fv := v.Field(i)
			if (strings.HasSuffix(name, "_file") || name == "files") && !fv.IsZero() {
				return fmt.Errorf("%s reads a file from the operator's disk, which a channel may not do; put the value itself in the block", fieldPath)
			}
			// Notifiers dereference their HTTP settings; Load fills them
			// from the global ones, this is a second guard.
			if f.Type == reflect.PointerTo(httpClientConfigType) && fv.IsNil() && fv.CanSet() {
				def := commoncfg.DefaultHTTPClientConfig
				fv.Set(reflect.ValueOf(&def))
			}
			if err := ins.walk(fv, fieldPath, depth+1, freeForm); err != nil {
				return err
			}
			// After the walk, so that a file the field reads is named first.
			if name == "email_configs" && ins.allowEmail {
				continue
			}
			if err := refuseSetting(name, fieldPath, fv); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := ins.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1, freeForm); err != nil {
				return err
			}
		}
	case reflect.Map:
		free := freeForm || v.Type().Elem().Kind() == reflect.Interface
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if err := ins.walk(iter.Value(), joinPath(path, key), depth+1, free); err != nil {
				return err
			}
		}
	case reflect.String:
		s := v.String()
		switch v.Type() {
		case secretType, secretTemplateURLType, commonSecretType:
			ins.addSecret(s)
		}
		if freeForm {
			if err := checkRerun(s, 0); err != nil {
				return fmt.Errorf("the value of %s is refused: %w", path, err)
			}
		}
		if strings.Contains(s, "{{") {
			if err := ins.tmpl.Check(s); err != nil {
				return fmt.Errorf("the template in %s is refused: %w", path, err)
			}
		}
	default:
	}
	return nil
}

// maxDepth bounds the nesting of a block, which the checks walk whole.
const maxDepth = 64

// rerunPipes may follow a field in a template that Alertmanager runs
// again: none of them makes "{{" or a backslash out of a value without.
var rerunPipes = []string{"toJson", "len", "toUpper", "toLower", "title", "trimSpace"}

// checkRerun checks a string whose output Alertmanager parses as YAML and
// runs again (DeepCopyWithTemplate). The output must not spell a template
// that the static check never saw. With the page's values free of "{{",
// backslashes and tags (dataValue), it is enough that the string has no
// backslash (no YAML escape can spell a brace) and is either a literal whose
// YAML strings are checked the same way, or text without "{" or "!" (no
// !!binary tag before a value) between actions that print one value of the
// data, at most piped into rerunPipes, and are never side by side (two
// values could end and start with "{").
func checkRerun(s string, depth int) error {
	if strings.Contains(s, `\`) {
		return errors.New("it holds a backslash, which Alertmanager's YAML parse of the output could turn into a template")
	}
	if !strings.Contains(s, "{{") {
		// Alertmanager parses the literal as YAML and, when it is a list or
		// a map, goes on with the strings it holds.
		var inner any
		if err := yaml.Unmarshal([]byte(s), &inner); err != nil || depth >= maxDepth {
			return nil //nolint:nilerr // What does not parse stays a plain string.
		}
		switch inner.(type) {
		case map[any]any, []any:
		default:
			return nil
		}
		for _, v := range yamlScalars(inner, nil) {
			if err := checkRerun(v, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	set, err := parse.Parse("", s, "", "", tmplbudget.ParseFuncs)
	if err != nil {
		return nil //nolint:nilerr // Alertmanager fails to parse it too, and runs nothing.
	}
	const rule = "its output is run again as a template by Alertmanager, so it may hold only text without \"{\" or \"!\" and, apart, actions such as {{ .CommonAnnotations.summary }} or {{ .Alerts.Firing | toJson }}"
	root := set[""]
	if len(set) != 1 || root == nil {
		return errors.New(rule)
	}
	afterAction := false
	for _, n := range root.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			if strings.ContainsAny(string(n.Text), "{!") {
				return errors.New(rule)
			}
			if len(n.Text) > 0 {
				afterAction = false
			}
		case *parse.ActionNode:
			if afterAction || !rerunPipe(n.Pipe) {
				return errors.New(rule)
			}
			afterAction = true
		case *parse.CommentNode:
		default:
			return errors.New(rule)
		}
	}
	return nil
}

func rerunPipe(p *parse.PipeNode) bool {
	if len(p.Decl) > 0 || len(p.Cmds) == 0 {
		return false
	}
	for i, cmd := range p.Cmds {
		if len(cmd.Args) != 1 {
			return false
		}
		switch a := cmd.Args[0].(type) {
		case *parse.FieldNode, *parse.DotNode:
			if i > 0 {
				return false
			}
		case *parse.VariableNode:
			if i > 0 || a.Ident[0] != "$" {
				return false
			}
		case *parse.IdentifierNode:
			if i == 0 || !slices.Contains(rerunPipes, a.Ident) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (ins *inspection) addSecret(s string) {
	if len(s) < minRedacted {
		return
	}
	ins.secrets = append(ins.secrets, s)
	// Secrets show up in URLs, escaped.
	for _, e := range []string{url.PathEscape(s), url.QueryEscape(s)} {
		if e != s {
			ins.secrets = append(ins.secrets, e)
		}
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// defaultTrees are Alertmanager's default templates, which a receiver's
// templates may call: parsed once, as Alertmanager parses them.
var defaultTrees = sync.OnceValues(func() (map[string]*parse.Tree, error) {
	trees := map[string]*parse.Tree{}
	for _, name := range []string{"default.tmpl", "email.tmpl"} {
		f, err := asset.Assets.Open("/templates/" + name)
		if err != nil {
			return nil, fmt.Errorf("opening Alertmanager's %s: %w", name, err)
		}
		text, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading Alertmanager's %s: %w", name, err)
		}
		set, err := parse.Parse(name, string(text), "", "", tmplbudget.ParseFuncs)
		if err != nil {
			return nil, fmt.Errorf("parsing Alertmanager's %s: %w", name, err)
		}
		for n, t := range set {
			if n != name && n != "" {
				trees[n] = t
			}
		}
	}
	return trees, nil
})
