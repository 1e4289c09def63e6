// Package payloadcrypt encrypts every payload the worker, the starter and the tools hand to
// Temporal (workflow inputs and results, activity inputs and results, signals, updates,
// queries, memos, user metadata and, with the failure converter, failure messages), so a
// history exported from the server holds no customer's Salesforce identity or contact
// details in clear.
//
// The cipher is AES-256-GCM with a fresh random 96-bit nonce per payload. A key ring holds
// named keys: the first encrypts, every key decrypts, so a key is rotated by putting the new
// one first and keeping the old one until no open history needs it. Each payload names its
// key in its metadata; the key ID is also the cipher's additional data, so a payload cannot be
// passed off as encrypted with another key. Payloads without our encoding (histories written
// before encryption was turned on) pass through decoding unchanged.
package payloadcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding marks a payload this codec encrypted.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key a payload was encrypted with.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher, so a future one can be told apart.
	MetadataCipher = "encryption-cipher"
	cipherName     = "AES-256-GCM"
	keyLen         = 32
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Key is one named AES-256 key.
type Key struct {
	ID     string
	secret []byte
}

// Ring is an ordered set of keys: the first encrypts, all decrypt. The zero Ring encrypts
// nothing.
type Ring struct {
	keys  []Key
	aeads map[string]cipher.AEAD
	// AllowPlaintext lets DataConverter read payloads that are not encrypted, to migrate a
	// namespace written before its keys; off, a payload in clear is refused, so whoever can
	// write history or start a workflow without the keys cannot feed the workers input.
	AllowPlaintext bool
}

// Empty says whether the ring holds no key (payloads stay in clear).
func (r *Ring) Empty() bool { return r == nil || len(r.keys) == 0 }

// ActiveID is the ID of the key new payloads are encrypted with.
func (r *Ring) ActiveID() string {
	if r.Empty() {
		return ""
	}
	return r.keys[0].ID
}

// IDs lists the key IDs, the active one first.
func (r *Ring) IDs() []string {
	var ids []string
	if r != nil {
		for _, k := range r.keys {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

// String never shows key material.
func (r *Ring) String() string { return fmt.Sprintf("payload keys %v", r.IDs()) }

// Parse reads a key ring: entries "id:base64key" separated by commas or new lines, the
// active key first; blank lines and lines starting with # are ignored. Errors name the
// entry by its position and key ID, never the key.
func Parse(s string) (*Ring, error) {
	r := &Ring{aeads: map[string]cipher.AEAD{}}
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			id, b64, ok := strings.Cut(entry, ":")
			if !ok {
				return nil, fmt.Errorf("key %d is not id:base64-key", n)
			}
			if !keyIDPattern.MatchString(id) {
				return nil, fmt.Errorf("key %d: the ID must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", n)
			}
			secret, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || len(secret) != keyLen {
				return nil, fmt.Errorf("key %q must be 32 bytes in standard base64 (44 characters; `openssl rand -base64 32` makes one)", id)
			}
			if _, dup := r.aeads[id]; dup {
				return nil, fmt.Errorf("key ID %q appears twice", id)
			}
			block, err := aes.NewCipher(secret)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", id, err)
			}
			aead, err := cipher.NewGCM(block)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", id, err)
			}
			r.keys = append(r.keys, Key{ID: id, secret: secret})
			r.aeads[id] = aead
		}
	}
	return r, nil
}

// Load builds the ring from a value (PAYLOAD_KEYS) and a file (PAYLOAD_KEYS_FILE): the
// value's keys come first. Both empty gives an empty ring.
func Load(value, file string) (*Ring, error) {
	text := value
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("PAYLOAD_KEYS_FILE=%q: %w", file, errors.Unwrap(err))
		}
		text += "\n" + string(b)
	}
	r, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("PAYLOAD_KEYS: %w", err)
	}
	return r, nil
}

// NewKey returns a key entry "id:base64key" of fresh random bytes.
func NewKey(id string) (string, error) {
	if !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("key ID %q: must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	b := make([]byte, keyLen)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b), nil
}

// Codec is the converter.PayloadCodec of a ring.
type Codec struct {
	ring *Ring
	// strict refuses payloads in clear (DataConverter's, unless the ring allows them).
	strict bool
}

// NewCodec returns the codec of r (r must not be empty). It leaves payloads in clear as they
// are: the codec server's, whose callers (the Web UI, the CLI) only display them.
func NewCodec(r *Ring) *Codec { return &Codec{ring: r} }

// Encode encrypts each payload with the active key.
func (c *Codec) Encode(in []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.ring.ActiveID()
	aead := c.ring.aeads[id]
	out := make([]*commonpb.Payload, len(in))
	for i, p := range in {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encrypt payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(id), MetadataCipher: []byte(cipherName),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode decrypts each payload this codec encrypted; one in clear it refuses when strict
// and leaves as it is otherwise. Its refusals fail the workflow task, not the workflow (the
// SDK's WorkflowTaskFailureError): a missing key or a migration setting is an operator's to
// fix, and the task is retried once they have, where failing the workflow would compensate
// (destroy) on a payload nobody could read.
func (c *Codec) Decode(in []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := c.decode(in)
	if err != nil {
		return nil, converter.NewWorkflowTaskFailureError(err)
	}
	return out, nil
}

func (c *Codec) decode(in []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(in))
	for i, p := range in {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			if c.strict {
				return nil, fmt.Errorf("a payload in clear (encoding %q) was refused: this namespace's payloads are encrypted, so it was written without the keys (start, signal and query through the codec server, or set PAYLOAD_ALLOW_PLAINTEXT=true while migrating)",
					safe(string(p.GetMetadata()[converter.MetadataEncoding])))
			}
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		if c := string(p.GetMetadata()[MetadataCipher]); c != "" && c != cipherName {
			return nil, fmt.Errorf("decrypt payload: unknown cipher %q", safe(c))
		}
		aead, ok := c.ring.aeads[id]
		if !ok {
			return nil, fmt.Errorf("decrypt payload: it was encrypted with key %q, which is not in PAYLOAD_KEYS (holding %v): add that key back to read it", safe(id), c.ring.IDs())
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("decrypt payload (key %q): too short", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("decrypt payload (key %q): authentication failed: tampered with, or another key of the same ID", id)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("decrypt payload (key %q): %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// safe keeps an attacker-chosen metadata value short and printable in an error.
func safe(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// DataConverter is Temporal's default converter with r's codec. It refuses a payload in
// clear unless r.AllowPlaintext. With an empty ring payloads are written in clear, and an
// encrypted one read says which key it needs instead of "unsupported encoding".
func DataConverter(r *Ring) converter.DataConverter {
	if r.Empty() {
		return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), noKeys{})
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), &Codec{ring: r, strict: !r.AllowPlaintext})
}

// noKeys is the codec of a process without keys.
type noKeys struct{}

func (noKeys) Encode(in []*commonpb.Payload) ([]*commonpb.Payload, error) { return in, nil }

func (noKeys) Decode(in []*commonpb.Payload) ([]*commonpb.Payload, error) {
	for _, p := range in {
		if string(p.GetMetadata()[converter.MetadataEncoding]) == Encoding {
			return nil, converter.NewWorkflowTaskFailureError(fmt.Errorf("this payload is encrypted (key %q): set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE to the workers' keys to read it", safe(string(p.GetMetadata()[MetadataKeyID]))))
		}
	}
	return in, nil
}

// FailureConverter moves failure messages and stack traces into an encoded payload when r
// holds keys (they can name a customer); the default converter otherwise.
func FailureConverter(r *Ring) converter.FailureConverter {
	if r.Empty() {
		return temporal.GetDefaultFailureConverter()
	}
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: DataConverter(r), EncodeCommonAttributes: true})
}
