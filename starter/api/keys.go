package api

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// What a key may do, each on one integration ("read:acme") or on every one ("read:*").
// Deactivation is its own scope: a backend that onboards customers should not be able to
// end the integration by mistake or when its key leaks.
const (
	// ScopeRead reads onboardings (status, list) and integrations (info), and the key list.
	ScopeRead = "read"
	// ScopeWrite starts onboardings, acts on them (reauthorize, reissue, offboard, returned)
	// and creates or updates integrations.
	ScopeWrite = "write"
	// ScopeDeactivate deactivates an integration (the cascade ends every customer).
	ScopeDeactivate = "deactivate"
	// AnyISV stands for every integration in a scope.
	AnyISV = "*"
	// tokenPrefix makes a leaked key recognisable to secret scanners and to people.
	tokenPrefix = "cok_"
)

// Key is one API key: a name for logs and the key list, the SHA-256 of its token (the token
// itself is never stored: it is a random 256-bit value, so a plain hash is as good as a slow
// one), and its scopes. Several keys may hold the same scopes, which is how a key is rotated:
// add the new one, move the callers, remove the old one.
type Key struct {
	Name   string
	hash   [sha256.Size]byte
	Scopes []string
	// lastUsed is the Unix time in nanoseconds of the last request this process authenticated
	// with the key (0: none since start).
	lastUsed atomic.Int64
}

// Allows says whether the key holds scope action on the integration isv.
func (k *Key) Allows(action, isv string) bool {
	return slices.Contains(k.Scopes, action+":"+isv) || slices.Contains(k.Scopes, action+":"+AnyISV)
}

// KeyInfo is what GET /v1/keys tells of a key: never its token or hash.
type KeyInfo struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// LastUsedAt is the last request this replica of starter serve authenticated with it.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Keys is the set of keys starter serve accepts.
type Keys struct{ keys []*Key }

// Len is how many keys the set holds.
func (ks *Keys) Len() int { return len(ks.keys) }

// authenticate finds the key of token, comparing against every hash in constant time so the
// answer's timing says nothing about which key came close.
func (ks *Keys) authenticate(token string, now time.Time) *Key {
	h := sha256.Sum256([]byte(token))
	var found *Key
	for _, k := range ks.keys {
		if subtle.ConstantTimeCompare(h[:], k.hash[:]) == 1 {
			found = k
		}
	}
	if found != nil {
		found.lastUsed.Store(now.UnixNano())
	}
	return found
}

// Info lists the keys, for GET /v1/keys.
func (ks *Keys) Info() []KeyInfo {
	out := make([]KeyInfo, 0, len(ks.keys))
	for _, k := range ks.keys {
		ki := KeyInfo{Name: k.Name, Scopes: k.Scopes}
		if n := k.lastUsed.Load(); n != 0 {
			ki.LastUsedAt = time.Unix(0, n).UTC()
		}
		out = append(out, ki)
	}
	return out
}

// FullAccess makes a key of every scope on every integration from a bare token
// (STARTER_API_TOKENS, for development and single-tenant setups).
func (ks *Keys) FullAccess(name, token string) {
	k := &Key{Name: name, hash: sha256.Sum256([]byte(token)),
		Scopes: []string{ScopeRead + ":" + AnyISV, ScopeWrite + ":" + AnyISV, ScopeDeactivate + ":" + AnyISV}}
	ks.keys = append(ks.keys, k)
}

// ParseKeys reads a key file (STARTER_API_KEYS_FILE): one key per line,
//
//	NAME sha256:HEX SCOPE[,SCOPE...]
//
// with blank lines and lines starting with # ignored. A scope is ACTION:ISV, ACTION one of
// read, write, deactivate and ISV an integration's slug or *. An error names the line and the
// rule, never the hash.
func ParseKeys(r io.Reader) (*Keys, error) {
	ks := &Keys{}
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want NAME sha256:HEX SCOPES, got %d fields", n, len(f))
		}
		name, hash, scopes := f[0], f[1], f[2]
		if !keyName.MatchString(name) {
			return nil, fmt.Errorf("line %d: name %q %s", n, safeName(name), keyNameRule)
		}
		if names[name] {
			return nil, fmt.Errorf("line %d: name %q is used twice", n, name)
		}
		names[name] = true
		k := &Key{Name: name}
		hexHash, ok := strings.CutPrefix(hash, "sha256:")
		b, err := hex.DecodeString(hexHash)
		if !ok || err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("line %d (key %s): the hash must be sha256: and 64 hex digits (starter keys new prints the line)", n, name)
		}
		copy(k.hash[:], b)
		for _, s := range strings.Split(scopes, ",") {
			if err := checkScope(s); err != nil {
				return nil, fmt.Errorf("line %d (key %s): %w", n, name, err)
			}
			k.Scopes = append(k.Scopes, s)
		}
		ks.keys = append(ks.keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the key file: %w", err)
	}
	return ks, nil
}

// keyName is what a key's name may be: it is printed in logs and the key list.
var keyName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

const keyNameRule = "must be 1-63 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit"

// safeName keeps a refused name short in an error (it may be a token pasted by mistake).
func safeName(s string) string {
	if len(s) > 16 {
		return s[:8] + "…"
	}
	return s
}

func checkScope(s string) error {
	action, isv, ok := strings.Cut(s, ":")
	if !ok || (action != ScopeRead && action != ScopeWrite && action != ScopeDeactivate) {
		return fmt.Errorf("scope %q: must be read, write or deactivate, a colon, and an integration's slug or *", s)
	}
	if isv != AnyISV && !contract.ValidSlug(isv) {
		return fmt.Errorf("scope %q: %q is not an integration's slug or *", s, isv)
	}
	return nil
}

// NewKey makes a key: the token, shown once to whoever will call the API, and the key
// file's line, which holds only its hash.
func NewKey(name string, scopes []string) (token, line string, err error) {
	if !keyName.MatchString(name) {
		return "", "", fmt.Errorf("name %q %s", safeName(name), keyNameRule)
	}
	if len(scopes) == 0 {
		return "", "", fmt.Errorf("scope: at least one is required (read:SLUG, write:SLUG, deactivate:SLUG, or * for every integration)")
	}
	for _, s := range scopes {
		if err := checkScope(s); err != nil {
			return "", "", err
		}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, fmt.Sprintf("%s sha256:%s %s", name, hex.EncodeToString(h[:]), strings.Join(scopes, ",")), nil
}
