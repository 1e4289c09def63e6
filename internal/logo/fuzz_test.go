package logo

import (
	"testing"

	"github.com/connect-onboarding/worker/internal/logo/logotest"
)

// A logo is a file from the ISV: Check never panics, and what it accepts is of an allowed
// type whose content matches its name, within Heroku's sizes, and an SVG without scripts.
func FuzzCheck(f *testing.F) {
	f.Add("l.png", logotest.PNG(200, 200))
	f.Add("l.jpg", logotest.JPEG(300, 150))
	f.Add("l.webp", logotest.WebP(120, 120))
	f.Add("l.svg", logotest.SVG(`width="200" height="200"`))
	f.Add("l.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1e9 1e9"><script>alert(1)</script></svg>`))
	f.Add("l.svg", []byte(`<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg width="200" height="200" onload="x()"/>`))
	f.Add("l.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xff\xff\xff\xff\xff\xff\xff\x08\x06"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		info, err := Check(name, data)
		if err != nil {
			return
		}
		if info.Width < MinSide || info.Width > MaxSide || info.Height < MinSide || info.Height > MaxSide {
			t.Fatalf("accepted %dx%d", info.Width, info.Height)
		}
		if len(data) > MaxBytes || len(data) == 0 {
			t.Fatalf("accepted %d bytes", len(data))
		}
		if info.Format == "svg" && svgSafe(data) != nil {
			t.Fatalf("accepted an unsafe SVG")
		}
	})
}
