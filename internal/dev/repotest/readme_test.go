package repotest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// codeLines are a block's lines without their indentation, blank lines and import lines.
func codeLines(src string) []string {
	var out []string
	for _, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "import ") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func contains(hay, needle []string) bool {
	for i := 0; i+len(needle) <= len(hay); i++ {
		ok := true
		for j := range needle {
			if hay[i+j] != needle[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Every Go block of the README is the body of an Example function (which compiles, and runs
// in make test), line for line: the README's Go cannot drift from code that works.
func TestReadmeGoBlocksAreExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	blocks := goBlock.FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, blocks, "the README has Go blocks")
	var examples [][]string
	for _, f := range tracked(t) {
		if !strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		if strings.Contains(string(b), "\nfunc Example") {
			examples = append(examples, codeLines(string(b)))
		}
	}
	require.NotEmpty(t, examples)
	for _, blk := range blocks {
		lines := codeLines(blk[1])
		found := false
		for _, ex := range examples {
			found = found || contains(ex, lines)
		}
		assert.True(t, found, "this README Go block is not the body of an Example function:\n%s", blk[1])
	}
}
