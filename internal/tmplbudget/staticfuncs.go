package tmplbudget

import (
	"errors"
	"fmt"
	"reflect"
	"text/template/parse"
	"time"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// does: a method first, then a struct field or a map key.
func (c *staticCheck) fields(base value, names []string, args []value) value {
	for i, name := range names {
		var a []value
		if i == len(names)-1 {
			a = args
		}
		base = c.access(base, name, a)
	}
	return base
}

func (c *staticCheck) access(base value, name string, args []value) value {
	unknown := value{size: max(DataBound, base.size), count: -1, data: true}
	t := base.typ
	if t == nil {
		return unknown
	}
	if m, ok := methodByName(t, name); ok {
		if m.Type.NumOut() == 0 {
			return unknown
		}
		rt := m.Type.Out(0)
		v := value{typ: rt, size: typeSize(rt, true), count: typeCount(rt), data: true}
		if len(args) > 0 {
			// Such as .StartsAt.Format "layout" or .Labels.Remove names.
			v.size = satAdd(max(DataBound, base.size), satMul(4, sumSizes(args)))
			c.add(v.size)
		}
		return v
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var ft reflect.Type
	switch t.Kind() {
	case reflect.Struct:
		if f, ok := t.FieldByName(name); ok && f.IsExported() {
			ft = f.Type
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			ft = t.Elem()
		}
	default:
	}
	if ft == nil {
		return unknown
	}
	return value{typ: ft, size: typeSize(ft, false), count: typeCount(ft), data: true}
}

func methodByName(t reflect.Type, name string) (reflect.Method, bool) {
	if m, ok := t.MethodByName(name); ok {
		return m, true
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		return reflect.PointerTo(t).MethodByName(name)
	}
	return reflect.Method{}, false
}

// typeSize bounds the printed size of a value of the alert's data. Strings
// stored in the data are cut by the caller; a method returning a string may
// print a whole label set.
func typeSize(t reflect.Type, fromMethod bool) int64 {
	switch t.Kind() {
	case reflect.String:
		if fromMethod {
			return DataBound
		}
		return LeafBound
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return scalarBound
	default:
		if t == timeType {
			return scalarBound
		}
		return DataBound
	}
}

// typeCount bounds the elements of a list of the alert's data; -1 for
// anything else, which range refuses.
func typeCount(t reflect.Type) int64 {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		switch e := t.Elem(); {
		case e == alertType:
			return StaticAlerts
		case e == pairType, e.Kind() == reflect.String:
			return StaticPairs
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return StaticPairs
		}
	default:
	}
	return -1
}

func elemOf(v value) value {
	if v.typ == nil {
		return value{size: v.size, count: -1, data: v.data}
	}
	var et reflect.Type
	switch v.typ.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		et = v.typ.Elem()
	default:
		return value{size: v.size, count: -1, data: v.data}
	}
	e := value{typ: et, size: v.size, count: -1, data: v.data}
	if v.data {
		e.size = min(v.size, typeSize(et, false))
		e.count = typeCount(et)
	}
	return e
}

// function bounds a call's result from its arguments (the piped value
// last) and counts its work.
func (c *staticCheck) function(name string, args []value) (value, error) {
	sum, n := sumSizes(args), int64(len(args))
	str := func(size int64) value { return value{typ: stringType, size: size, count: -1} }
	var v value
	switch name {
	case "print":
		v = str(satAdd(sum, n))
	case "println":
		v = str(satAdd(sum, n+1))
	case "printf":
		if len(args) == 0 || args[0].lit == nil {
			return value{}, errors.New("it calls printf with a format that is not a literal string")
		}
		if err := CheckFormat(*args[0].lit); err != nil {
			return value{}, err
		}
		sizes := make([]int64, 0, len(args)-1)
		for _, a := range args[1:] {
			sizes = append(sizes, a.size)
		}
		v = str(FormatBound(*args[0].lit, sizes))
	case "html", "js", "urlquery":
		v = str(satMul(6, satAdd(sum, n)))
	case "toUpper", "toLower", "title":
		// Case mapping may lengthen a rune's encoding up to threefold.
		v = str(satMul(3, sum))
	case "trimSpace", "urlUnescape", "safeHtml", "safeUrl":
		v = str(sum)
	case "toJson":
		v = str(satAdd(satMul(6, sum), scalarBound))
	case "date":
		v = str(satAdd(satMul(4, sum), scalarBound))
	case "humanizeDuration":
		v = str(scalarBound)
	case "tz":
		v = value{typ: timeType, size: scalarBound, count: -1}
	case "since":
		v = value{typ: reflect.TypeFor[time.Duration](), size: scalarBound, count: -1}
	case "len", "not", "eq", "ne", "lt", "le", "gt", "ge":
		v = value{typ: intType, size: scalarBound, count: -1}
		if name != "len" {
			v.typ = boolType
		}
	case "join":
		if len(args) != 2 {
			return value{}, errors.New("it calls join without a separator and a list")
		}
		list := args[1]
		if list.count < 0 {
			return value{}, errors.New("it joins something that is not a list of the alert's data")
		}
		v = str(satAdd(list.size, satMul(list.count, args[0].size)))
	case "stringSlice":
		v = value{typ: stringsType, size: satAdd(sum, n), count: n}
	case "match", "reReplaceAll":
		if len(args) == 0 || args[0].lit == nil {
			return value{}, fmt.Errorf("it calls %s with a pattern that is not a literal string", name)
		}
		cost, err := CheckRegexp(name, *args[0].lit)
		if err != nil {
			return value{}, err
		}
		c.regexpCalls = satAdd(c.regexpCalls, c.mult)
		if c.regexpCalls > MaxRegexpCalls {
			return value{}, overBudget("it could call match and reReplaceAll more than %d times (each call counts once per iteration of the ranges around it); call them outside ranges or less often", MaxRegexpCalls)
		}
		insts := int64(cost.Size)
		// Alertmanager compiles the expression at every call, then runs it
		// over the text.
		text := args[len(args)-1].size
		c.add(satMul(int64(cost.Compile), RegexpCompileBytes))
		c.add(satAdd(satMul(text, insts), satMul(insts, scalarBound)))
		if name == "match" {
			v = value{typ: boolType, size: scalarBound, count: -1}
			break
		}
		if len(args) != 3 {
			return value{}, errors.New("it calls reReplaceAll without a pattern, a replacement and a text")
		}
		// Matches do not overlap: each $ expands to at most the text,
		// and there is at most one match more than the text has bytes.
		repl := args[1].size
		v = str(satAdd(satMul(text, satAdd(1, repl)), satMul(satAdd(text, 1), repl)))
	case "index":
		if len(args) == 0 {
			return value{}, errors.New("it calls index without arguments")
		}
		v = args[0]
		for range args[1:] {
			v = elemOf(v)
		}
	case "slice":
		if len(args) == 0 {
			return value{}, errors.New("it calls slice without arguments")
		}
		v = args[0]
		v.lit = nil
	case "and", "or":
		if len(args) == 0 {
			return value{}, fmt.Errorf("it calls %s without arguments", name)
		}
		v = args[0]
		v.lit = nil
		for _, a := range args[1:] {
			if a.typ != v.typ {
				v.typ = nil
			}
			v.size = max(v.size, a.size)
			v.data = v.data || a.data
			if a.count < 0 || v.count < 0 {
				v.count = -1
			} else {
				v.count = max(v.count, a.count)
			}
		}
		if v.typ == nil {
			v.count = -1
		}
	case "call":
		return value{}, errors.New("it uses call, which is not allowed")
	default:
		return value{}, fmt.Errorf("it calls %s, which the check does not know", name)
	}
	c.add(v.size)
	return v, nil
}

func pipeText(p *parse.PipeNode) string {
	return bounded.Bytes(p.String(), 80)
}

func sumSizes(vs []value) int64 {
	var s int64
	for _, v := range vs {
		s = satAdd(s, v.size)
	}
	return s
}
