// Package privacy finds personal data where only ciphertext should be: in a history as
// `temporal workflow show --output json` exports it (payload data base64-encoded inside), in
// a visibility listing and in logs.
package privacy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
)

// Finding is one needle found, and where.
type Finding struct {
	Needle string
	Path   string // a JSON path, or "line N" in logs
}

func (f Finding) String() string { return fmt.Sprintf("%q at %s", f.Needle, f.Path) }

// ScanJSON walks a JSON document and reports every needle found in a string value, as is or
// base64-decoded (payload data and metadata are base64 in exported histories).
func ScanJSON(doc []byte, needles ...string) ([]Finding, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	seen := map[Finding]bool{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k], path+"/"+k)
				// Map keys can carry data too (memo and search attribute names do not, but
				// a header or metadata key could).
				for _, n := range find([]byte(k), needles) {
					seen[Finding{n, path + "/" + k + " (key)"}] = true
				}
			}
		case []any:
			for _, e := range x {
				walk(e, path+"[]")
			}
		case string:
			for _, n := range find([]byte(x), needles) {
				seen[Finding{n, path}] = true
			}
			if b, err := base64.StdEncoding.DecodeString(x); err == nil {
				for _, n := range find(b, needles) {
					seen[Finding{n, path + " (base64)"}] = true
				}
			}
		}
	}
	walk(v, "")
	return sorted(seen), nil
}

// ScanLines reports every needle found in the lines of text.
func ScanLines(text []byte, needles ...string) []Finding {
	seen := map[Finding]bool{}
	for i, line := range bytes.Split(text, []byte("\n")) {
		for _, n := range find(line, needles) {
			seen[Finding{n, fmt.Sprintf("line %d: %.200s", i+1, line)}] = true
		}
	}
	return sorted(seen)
}

func find(b []byte, needles []string) []string {
	var out []string
	for _, n := range needles {
		if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(n))) {
			out = append(out, n)
		}
	}
	return out
}

func sorted(m map[Finding]bool) []Finding {
	out := make([]Finding, 0, len(m))
	for f := range m {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
