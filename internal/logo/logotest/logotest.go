// Package logotest makes real image files of a chosen format and size for tests of the logo
// rule, the simulator and the partner CLI.
package logotest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// PNG encodes a w x h PNG.
func PNG(w, h int) []byte {
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory RGBA cannot fail
	}
	return buf.Bytes()
}

// JPEG encodes a w x h JPEG.
func JPEG(w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h)), nil); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// SVG returns an SVG document whose root carries attrs (e.g. `width="200" height="200"`).
func SVG(attrs string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" %s><rect width="10" height="10"/></svg>`, attrs))
}

// WebP builds a lossless (VP8L) WebP container whose header declares w x h. Decoders read
// the dimensions from that header, which is all a size check looks at.
func WebP(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14 // alpha 0, version 0
	vp8l := []byte{0x2f, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0, 0, 0}
	chunk := append([]byte("VP8L"), le32(len(vp8l))...)
	chunk = append(chunk, vp8l...)
	body := append([]byte("WEBP"), chunk...)
	return append(append([]byte("RIFF"), le32(len(body))...), body...)
}

func le32(n int) []byte { return []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)} }
