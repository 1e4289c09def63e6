// Package replay knows the layout of the workflows' replay fixtures: one folder per release
// whose workflows changed, under workflows/testdata/replay, named for the release
// (CHANGELOG.md), each with the gzipped histories and a manifest naming the release, the
// commit they were recorded at and the version of each workflow's version list.
package replay

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

// Root is where the fixtures live, relative to the repository root.
const Root = "workflows/testdata/replay"

// Manifest describes one recording.
type Manifest struct {
	// Release is the release the fixtures record (a CHANGELOG.md heading), and their folder.
	Release     string         `json:"release"`
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

// Files lists every history file under root, in any folder: each must be in a manifest.
func Files(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json.gz") {
			out = append(out, path)
		}
		return err
	})
	return out, err
}

// releaseHeading is a Keep a Changelog release heading: "## [1.0.0] - 2026-12-02".
var releaseHeading = regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`)

// Release is the newest release CHANGELOG.md under root names.
func Release(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		return "", err
	}
	m := releaseHeading.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("CHANGELOG.md names no release (## [x.y.z] - date)")
	}
	return string(m[1]), nil
}
