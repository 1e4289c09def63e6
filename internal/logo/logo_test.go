package logo_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/logo"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name, file string
		data       []byte
		wantErr    string
		wantFormat string
	}{
		{"png ok", "logo.png", logotest.PNG(200, 150), "", "png"},
		{"jpeg ok", "logo.jpeg", logotest.JPEG(100, 1000), "", "jpeg"},
		{"jpg ok", "LOGO.JPG", logotest.JPEG(300, 300), "", "jpeg"},
		{"webp ok", "logo.webp", logotest.WebP(120, 640), "", "webp"},
		{"svg ok by size", "logo.svg", logotest.SVG(`width="256" height="256px"`), "", "svg"},
		{"svg ok by viewBox", "logo.svg", logotest.SVG(`viewBox="0 0 512 300"`), "", "svg"},
		{"too small", "logo.png", logotest.PNG(99, 200), "between 100 and 1000", ""},
		{"too large", "logo.png", logotest.PNG(1001, 500), "between 100 and 1000", ""},
		{"svg too small", "logo.svg", logotest.SVG(`width="50" height="50"`), "between 100 and 1000", ""},
		{"webp too large", "logo.webp", logotest.WebP(1200, 200), "between 100 and 1000", ""},
		{"too heavy", "logo.png", append(logotest.PNG(200, 200), make([]byte, logo.MaxBytes)...), "5 MB", ""},
		{"jpeg behind png name", "logo.png", logotest.JPEG(200, 200), "holds a jpeg", ""},
		{"webp behind png name", "logo.png", logotest.WebP(200, 200), "holds a webp", ""},
		{"not an image", "logo.png", []byte("hello, not a png"), "not a readable", ""},
		{"gif refused by name", "logo.gif", logotest.PNG(200, 200), "must be a .jpeg", ""},
		{"empty", "logo.png", nil, "is empty", ""},
		{"svg without size", "logo.svg", logotest.SVG(``), "no width/height", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := logo.Check(tc.file, tc.data)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantFormat, info.Format)
		})
	}
}

func BenchmarkCheckPNG(b *testing.B) {
	data := logotest.PNG(512, 512)
	for b.Loop() {
		if _, err := logo.Check("logo.png", data); err != nil {
			b.Fatal(err)
		}
	}
}

// Issue 10 item 11: an SVG that runs code is not a logo.
func TestActiveSVGIsRefused(t *testing.T) {
	svg := func(body string) []byte {
		return []byte(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="200">` + body + `</svg>`)
	}
	_, err := logo.Check("l.svg", svg(`<rect width="10" height="10" fill="#f00"/>`))
	require.NoError(t, err)
	for name, body := range map[string]string{
		"script":         `<script>alert(1)</script>`,
		"upper script":   `<SCRIPT>alert(1)</SCRIPT>`,
		"onload":         `<rect onload="alert(1)" width="1" height="1"/>`,
		"foreign object": `<foreignObject><iframe src="https://evil.example"/></foreignObject>`,
		"external href":  `<image xlink:href="https://evil.example/x.png" width="1" height="1"/>`,
		"js href":        `<a href="javascript:alert(1)"><rect width="1" height="1"/></a>`,
		"style import":   `<style>@import url(https://evil.example/x.css);</style>`,
	} {
		_, err := logo.Check("l.svg", svg(body))
		assert.Error(t, err, name)
	}
}
