// Package tsdef reads the TypeScript declarations that json-schema-to-typescript generates
// (as in npm @heroku-cli/schema, Heroku's published Platform API definitions) and checks a
// JSON value against one of them. It reads the subset such files use: exported interfaces and
// type aliases; members with optional marks and index signatures; unions, intersections,
// arrays, parentheses, string literals and the primitive types.
package tsdef

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Kind is what a Type is.
type Kind int

// Kinds of types.
const (
	Prim   Kind = iota // string, number, boolean, null, unknown
	Lit                // a string literal
	Ref                // a named type
	Object             // { members }
	Array              // T[]
	Union              // A | B
	Inter              // A & B
)

// Type is a parsed type expression.
type Type struct {
	Kind    Kind
	Name    string // Prim: the primitive; Lit: the literal; Ref: the name
	Fields  []Field
	Open    bool // Object: has an index signature ([k: string]: unknown)
	Elem    *Type
	Options []*Type
}

// Field is an object member.
type Field struct {
	Name     string
	Optional bool
	Type     *Type
}

// Defs are the declarations of a file, by name.
type Defs map[string]*Type

// Parse reads every exported interface and type alias of src.
func Parse(src string) (Defs, error) {
	p := &parser{toks: tokenize(src)}
	defs := Defs{}
	for !p.done() {
		if p.peek() != "export" {
			p.pos++
			continue
		}
		p.pos++
		switch kw := p.next(); kw {
		case "interface":
			name := p.next()
			if p.peek() == "extends" {
				return nil, fmt.Errorf("interface %s: extends is not supported", name)
			}
			t, err := p.object()
			if err != nil {
				return nil, fmt.Errorf("interface %s: %w", name, err)
			}
			defs[name] = t
		case "type":
			name := p.next()
			if err := p.expect("="); err != nil {
				return nil, fmt.Errorf("type %s: %w", name, err)
			}
			t, err := p.union()
			if err != nil {
				return nil, fmt.Errorf("type %s: %w", name, err)
			}
			defs[name] = t
		}
	}
	return defs, nil
}

type parser struct {
	toks []string
	pos  int
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }
func (p *parser) peek() string {
	if p.done() {
		return ""
	}
	return p.toks[p.pos]
}
func (p *parser) next() string { t := p.peek(); p.pos++; return t }
func (p *parser) expect(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("expected %q, found %q", t, got)
	}
	return nil
}

func (p *parser) union() (*Type, error) {
	if p.peek() == "|" { // a leading bar
		p.pos++
	}
	var opts []*Type
	for {
		t, err := p.inter()
		if err != nil {
			return nil, err
		}
		opts = append(opts, t)
		if p.peek() != "|" {
			break
		}
		p.pos++
	}
	if len(opts) == 1 {
		return opts[0], nil
	}
	return &Type{Kind: Union, Options: opts}, nil
}

func (p *parser) inter() (*Type, error) {
	var parts []*Type
	for {
		t, err := p.postfix()
		if err != nil {
			return nil, err
		}
		parts = append(parts, t)
		if p.peek() != "&" {
			break
		}
		p.pos++
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return &Type{Kind: Inter, Options: parts}, nil
}

func (p *parser) postfix() (*Type, error) {
	t, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peek() == "[" && p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "]" {
		p.pos += 2
		t = &Type{Kind: Array, Elem: t}
	}
	return t, nil
}

func (p *parser) primary() (*Type, error) {
	switch tok := p.peek(); {
	case tok == "{":
		return p.object()
	case tok == "(":
		p.pos++
		t, err := p.union()
		if err != nil {
			return nil, err
		}
		return t, p.expect(")")
	case strings.HasPrefix(tok, "'"):
		p.pos++
		return &Type{Kind: Lit, Name: strings.Trim(tok, "'")}, nil
	case tok == "string" || tok == "number" || tok == "boolean" || tok == "null" || tok == "unknown" || tok == "true" || tok == "false":
		p.pos++
		return &Type{Kind: Prim, Name: tok}, nil
	case tok != "" && (unicode.IsLetter(rune(tok[0])) || tok[0] == '_'):
		p.pos++
		return &Type{Kind: Ref, Name: tok}, nil
	default:
		return nil, fmt.Errorf("unexpected %q", tok)
	}
}

func (p *parser) object() (*Type, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	t := &Type{Kind: Object}
	for p.peek() != "}" {
		if p.done() {
			return nil, fmt.Errorf("unterminated object")
		}
		if p.peek() == "[" { // [k: string]: unknown
			for p.next() != "]" {
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			if _, err := p.union(); err != nil {
				return nil, err
			}
			t.Open = true
			continue
		}
		f := Field{Name: p.next()}
		if p.peek() == "?" {
			f.Optional = true
			p.pos++
		}
		if err := p.expect(":"); err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		ft, err := p.union()
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		f.Type = ft
		t.Fields = append(t.Fields, f)
		for p.peek() == ";" || p.peek() == "," {
			p.pos++
		}
	}
	p.pos++
	return t, nil
}

// tokenize splits src into identifiers, numbers, quoted literals and punctuation, dropping
// comments and whitespace.
func tokenize(src string) []string {
	var out []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			out = append(out, "'"+src[i+1:min(j, len(src))]+"'")
			i = j + 1
		case c == '_' || c == '$' || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)):
			j := i
			for j < len(src) && (src[j] == '_' || src[j] == '$' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			out = append(out, src[i:j])
			i = j
		default:
			out = append(out, string(c))
			i++
		}
	}
	return out
}

// Options tune a check.
type Options struct {
	// MayBeAbsent lists members ("Resource.field") a value may leave out; every other member,
	// optional or not, must be present.
	MayBeAbsent map[string]bool
	// AlsoAllowed lists, per member ("Resource.field"), string values accepted beyond its
	// type: where the wire contract knows a value the published enum lacks.
	AlsoAllowed map[string][]string
}

// Check holds the JSON document doc to the definition named name: every member present
// (unless allowed absent) with a value of its type, nullability included, and no member
// the definition does not declare. It returns every problem, each with its JSON path.
func (d Defs) Check(name string, doc []byte, o Options) ([]string, error) {
	t, ok := d[name]
	if !ok {
		return nil, fmt.Errorf("no definition named %s", name)
	}
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	c := &checker{defs: d, o: o}
	return c.check(v, t, name, "$"), nil
}

type checker struct {
	defs Defs
	o    Options
}

func (c *checker) check(v any, t *Type, owner, path string) []string {
	bad := func(format string, args ...any) []string { return []string{path + ": " + fmt.Sprintf(format, args...)} }
	switch t.Kind {
	case Prim:
		ok := map[string]bool{
			"string": isType[string](v), "number": isType[json.Number](v), "boolean": isType[bool](v),
			"null": v == nil, "unknown": true, "true": v == true, "false": v == false,
		}[t.Name]
		if !ok {
			return bad("%s, want %s", describe(v), t.Name)
		}
	case Lit:
		if s, ok := v.(string); !ok || s != t.Name {
			return bad("%s, want '%s'", describe(v), t.Name)
		}
	case Ref:
		def, ok := c.defs[t.Name]
		if !ok {
			return bad("refers to %s, which the file does not define", t.Name)
		}
		return c.check(v, def, t.Name, path)
	case Array:
		items, ok := v.([]any)
		if !ok {
			return bad("%s, want an array", describe(v))
		}
		var out []string
		for i, it := range items {
			out = append(out, c.check(it, t.Elem, owner, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case Union:
		var all []string
		for _, opt := range t.Options {
			p := c.check(v, opt, owner, path)
			if len(p) == 0 {
				return nil
			}
			all = append(all, p...)
		}
		return append(bad("matches none of the %d alternatives", len(t.Options)), all...)
	case Inter:
		// json-schema-to-typescript writes an array of objects as `{…} & {…}[]`: an array
		// whose items are each part that is not itself the array.
		var arr *Type
		var rest []*Type
		for _, part := range t.Options {
			if part.Kind == Array {
				arr = part
			} else {
				rest = append(rest, part)
			}
		}
		if arr != nil {
			return c.check(v, &Type{Kind: Array, Elem: &Type{Kind: Inter, Options: append(rest, arr.Elem)}}, owner, path)
		}
		var out []string
		for _, part := range rest {
			out = append(out, c.checkPart(v, part, owner, path)...)
		}
		return out
	case Object:
		return c.checkObject(v, t, owner, path, false)
	}
	return nil
}

// checkPart checks one part of an intersection: its members only, others belong to the
// other parts.
func (c *checker) checkPart(v any, t *Type, owner, path string) []string {
	if t.Kind == Object {
		return c.checkObject(v, t, owner, path, true)
	}
	return c.check(v, t, owner, path)
}

func (c *checker) checkObject(v any, t *Type, owner, path string, partial bool) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: %s, want an object", path, describe(v))}
	}
	var out []string
	declared := map[string]bool{}
	for _, f := range t.Fields {
		declared[f.Name] = true
		fv, present := obj[f.Name]
		if !present {
			if !c.o.MayBeAbsent[owner+"."+f.Name] {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, f.Name))
			}
			continue
		}
		if str, ok := fv.(string); ok && slices.Contains(c.o.AlsoAllowed[owner+"."+f.Name], str) {
			continue
		}
		out = append(out, c.check(fv, f.Type, owner, path+"."+f.Name)...)
	}
	if !partial {
		var extra []string
		for k := range obj {
			if !declared[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			out = append(out, fmt.Sprintf("%s.%s: not in the definition", path, k))
		}
	}
	return out
}

func isType[T any](v any) bool { _, ok := v.(T); return ok }

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", v)
	case json.Number:
		return "number " + v.String()
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
