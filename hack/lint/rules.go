//go:build ruleguard

// Package gorules holds Klaxon's logging conventions (STYLE.md: Logging) as
// ruleguard rules, run by golangci-lint's gocritic (see .golangci.yml). No
// other linter checks the text of a logr message.
//
// The ruleguard build tag keeps this file out of every build. ruleguard
// type-checks it from source, so go.mod requires the dsl package (a module of
// stubs with no dependencies, never linked into a binary).
package gorules

import "github.com/quasilyte/go-ruleguard/dsl"

// logMessageCapitalised: Kubernetes logging conventions start a message with
// a capital letter.
func logMessageCapitalised(m dsl.Matcher) {
	m.Import("github.com/go-logr/logr")
	m.Match(`$log.Info($msg, $*_)`, `$log.Error($_, $msg, $*_)`).
		Where(m["log"].Type.Is("logr.Logger") && m["msg"].Const && !m["msg"].Text.Matches("^[\"`][A-Z]")).
		Report(`log messages start with a capital letter`)
}

// logMessageNoTrailingPeriod: a log message is not a sentence that ends.
func logMessageNoTrailingPeriod(m dsl.Matcher) {
	m.Import("github.com/go-logr/logr")
	m.Match(`$log.Info($msg, $*_)`, `$log.Error($_, $msg, $*_)`).
		Where(m["log"].Type.Is("logr.Logger") && m["msg"].Const && m["msg"].Text.Matches("\\.[\"`]$")).
		Report(`log messages end without a period`)
}

// logMessageConstant: what varies goes into key/value pairs, so messages can
// be searched for and grouped.
func logMessageConstant(m dsl.Matcher) {
	m.Import("github.com/go-logr/logr")
	m.Match(`$log.Info($msg, $*_)`, `$log.Error($_, $msg, $*_)`).
		Where(m["log"].Type.Is("logr.Logger") && !m["msg"].Const).
		Report(`log messages are constant strings; put what varies in key/value pairs`)
}

// logObjectAsKObj: objects are logged as klog.KObj (namespace and name as
// separate fields in JSON output), not as a client.ObjectKey.
func logObjectAsKObj(m dsl.Matcher) {
	m.Import("github.com/go-logr/logr")
	m.Import("sigs.k8s.io/controller-runtime/pkg/client")
	m.Match(
		`$log.Info($_, $*_, client.ObjectKeyFromObject($obj), $*_)`,
		`$log.Error($_, $_, $*_, client.ObjectKeyFromObject($obj), $*_)`,
	).
		Where(m["log"].Type.Is("logr.Logger")).
		Report(`log the object as klog.KObj($obj)`)
}
