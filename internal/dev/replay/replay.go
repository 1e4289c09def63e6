// Package replay knows the layout of the workflows' replay fixtures: one folder per
// recording under workflows/testdata/replay, each with the gzipped histories and a manifest
// naming the commit they were recorded at and the workflow.GetVersion changes they cover.
package replay

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

// Manifest describes one recording.
type Manifest struct {
	Commit      string         `json:"commit"`
	GeneratedAt time.Time      `json:"generated_at"`
	Versions    map[string]int `json:"versions"` // change ID → version the histories were made at
	// PayloadKeyID names the key of KeysFile the payloads were encrypted with; empty for
	// recordings made before payload encryption (their payloads are in clear).
	PayloadKeyID string    `json:"payload_key_id,omitempty"`
	Fixtures     []Fixture `json:"fixtures"`
}

// Fixture is one recorded history.
type Fixture struct {
	File     string `json:"file"`
	Workflow string `json:"workflow"`
	Scenario string `json:"scenario"`
	// WorkflowID is the recorded run's ID: workflow code may depend on it (the watcher
	// shard is a hash of it), so a replay must use it.
	WorkflowID string `json:"workflow_id,omitempty"`
}

// Recording is a manifest and the folder it lives in.
type Recording struct {
	Dir string
	Manifest
}

// Load reads every recording under root.
func Load(root string) ([]Recording, error) {
	manifests, err := filepath.Glob(filepath.Join(root, "*", "manifest.json"))
	if err != nil {
		return nil, err
	}
	var out []Recording
	for _, m := range manifests {
		b, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		var man Manifest
		if err := json.Unmarshal(b, &man); err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		out = append(out, Recording{Dir: filepath.Dir(m), Manifest: man})
	}
	return out, nil
}

// KeysFile is the fixtures' payload key ring, relative to the repository root: a test key,
// committed, that make fixtures encrypts with and the replay test decrypts with.
const KeysFile = "workflows/testdata/replay/payload-keys"

// Ring reads KeysFile under root.
func Ring(root string) (*payloadcrypt.Ring, error) {
	r, err := payloadcrypt.Load("", filepath.Join(root, KeysFile))
	if err == nil && r.Empty() {
		err = fmt.Errorf("%s holds no key", KeysFile)
	}
	return r, err
}

// History reads a gzipped JSON history.
func History(path string) (*historypb.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return client.HistoryFromJSON(zr, client.HistoryJSONOptions{})
}

var (
	getVersionCall = regexp.MustCompile(`workflow\.GetVersion\([^,]+,\s*("[^"]+"|\w+)\s*,\s*[^,]+,\s*([0-9]+)\)`)
	stringConst    = regexp.MustCompile(`(?m)^\s*(\w+)\s*(?:string\s*)?=\s*"([^"]+)"`)
)

// VersionsInSource finds every workflow.GetVersion change in the Go files of dir (tests
// excluded) and its newest version. Change IDs may be string literals or constants.
func VersionsInSource(dir string) (map[string]int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	consts := map[string]string{}
	var sources []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sources = append(sources, string(b))
		for _, m := range stringConst.FindAllStringSubmatch(string(b), -1) {
			consts[m[1]] = m[2]
		}
	}
	out := map[string]int{}
	for _, src := range sources {
		for _, m := range getVersionCall.FindAllStringSubmatch(src, -1) {
			id := strings.Trim(m[1], `"`)
			if !strings.HasPrefix(m[1], `"`) {
				v, ok := consts[m[1]]
				if !ok {
					return nil, fmt.Errorf("GetVersion change ID %s is not a string constant of the package", m[1])
				}
				id = v
			}
			v, _ := strconv.Atoi(m[2])
			if v > out[id] {
				out[id] = v
			}
		}
	}
	return out, nil
}
