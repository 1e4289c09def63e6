package repotest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// root is the repository root (this package is two folders below internal/).
var root = filepath.Join("..", "..", "..")

// tracked lists the files git tracks, and those it would (not ignored).
func tracked(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	require.NoError(t, err, "git ls-files")
	var files []string
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	require.NotEmpty(t, files)
	return files
}

// executableMagic are the first bytes of the executables a build makes: ELF, Mach-O (both
// byte orders, 32 and 64 bits, universal) and PE.
var executableMagic = [][]byte{
	[]byte("\x7fELF"), {0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe},
	{0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}, []byte("MZ"),
}

// Build outputs stay out of the tree: no tracked file is an executable binary, and none
// outside a testdata folder is over 1 MB (every clone would download it).
func TestNoBuildOutputsTracked(t *testing.T) {
	for _, f := range tracked(t) {
		path := filepath.Join(root, f)
		info, err := os.Lstat(path)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		require.NoError(t, err)
		if !info.Mode().IsRegular() {
			continue
		}
		if !strings.Contains("/"+f, "/testdata/") {
			assert.LessOrEqual(t, info.Size(), int64(1<<20), "%s is over 1 MB: keep large files out of the repository", f)
		}
		head := make([]byte, 4)
		fh, err := os.Open(path)
		require.NoError(t, err)
		n, _ := fh.Read(head)
		fh.Close()
		for _, magic := range executableMagic {
			assert.False(t, n >= len(magic) && bytes.Equal(head[:len(magic)], magic), "%s is an executable binary: build outputs go to bin/ (ignored)", f)
		}
	}
}
