// Package logo checks a partner integration's logo the way Heroku states the rule: a jpeg,
// png, svg or webp file, 100 to 1000 pixels in width and height, at most 5 MB. The file is
// decoded, so the verdict rests on its real type and size, never on its name.
package logo

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers jpeg with image.DecodeConfig
	_ "image/png"  // registers png
	"io"
	"path/filepath"
	"strconv"
	"strings"

	_ "golang.org/x/image/webp" // registers webp
)

// Limits of the rule.
const (
	MaxBytes = 5 << 20
	MinSide  = 100
	MaxSide  = 1000
)

// Info is what a check found.
type Info struct {
	Format        string // jpeg, png, svg, webp
	Width, Height int
	ContentType   string
}

// allowed maps the accepted file extensions to the decoded format they must hold.
var allowed = map[string]string{".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".svg": "svg", ".webp": "webp"}

// Valid is Check for a caller that needs only the verdict (a contract.ImageCheck).
func Valid(filename string, data []byte) error {
	_, err := Check(filename, data)
	return err
}

// Check validates a logo file named filename with contents data. The error says which rule
// failed, in words fit to show a user.
func Check(filename string, data []byte) (Info, error) {
	ext := strings.ToLower(filepath.Ext(filename))
	want, ok := allowed[ext]
	if !ok {
		return Info{}, fmt.Errorf("must be a .jpeg, .jpg, .png, .svg or .webp file, got %q", filename)
	}
	if len(data) == 0 {
		return Info{}, errors.New("is empty")
	}
	if len(data) > MaxBytes {
		return Info{}, fmt.Errorf("is %d bytes, more than the 5 MB limit", len(data))
	}
	info, err := decode(data)
	if err != nil {
		return Info{}, fmt.Errorf("is not a readable jpeg, png, svg or webp image: %v", err)
	}
	if info.Format != want {
		return Info{}, fmt.Errorf("is named %s but holds a %s image", ext, info.Format)
	}
	if info.Width < MinSide || info.Height < MinSide || info.Width > MaxSide || info.Height > MaxSide {
		return Info{}, fmt.Errorf("is %dx%d pixels; width and height must each be between %d and %d", info.Width, info.Height, MinSide, MaxSide)
	}
	return info, nil
}

func decode(data []byte) (Info, error) {
	if looksLikeSVG(data) {
		w, h, err := svgSize(data)
		if err != nil {
			return Info{}, err
		}
		if err := svgSafe(data); err != nil {
			return Info{}, err
		}
		return Info{Format: "svg", Width: w, Height: h, ContentType: "image/svg+xml"}, nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Info{}, err
	}
	return Info{Format: format, Width: cfg.Width, Height: cfg.Height, ContentType: "image/" + format}, nil
}

func looksLikeSVG(data []byte) bool {
	head := data
	if len(head) > 1024 {
		head = head[:1024]
	}
	s := strings.ToLower(string(head))
	return strings.Contains(s, "<svg")
}

// svgSize reads width and height of the root <svg> element (plain numbers or px), falling
// back to the viewBox when they are missing or relative.
func svgSize(data []byte) (int, int, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return 0, 0, errors.New("no <svg> element")
		}
		if err != nil {
			return 0, 0, fmt.Errorf("svg: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if el.Name.Local != "svg" {
			return 0, 0, fmt.Errorf("root element is <%s>, not <svg>", el.Name.Local)
		}
		var w, h float64
		var vb []float64
		for _, a := range el.Attr {
			switch a.Name.Local {
			case "width":
				w = svgLength(a.Value)
			case "height":
				h = svgLength(a.Value)
			case "viewBox":
				for _, f := range strings.FieldsFunc(a.Value, func(r rune) bool { return r == ' ' || r == ',' }) {
					v, err := strconv.ParseFloat(f, 64)
					if err != nil {
						return 0, 0, fmt.Errorf("svg viewBox %q is not four numbers", a.Value)
					}
					vb = append(vb, v)
				}
			}
		}
		if (w == 0 || h == 0) && len(vb) == 4 {
			w, h = vb[2], vb[3]
		}
		if w <= 0 || h <= 0 {
			return 0, 0, errors.New("svg has no width/height or viewBox")
		}
		return int(w + 0.5), int(h + 0.5), nil
	}
}

// svgLength parses "120", "120px" or "120.5"; other units and percentages are not pixels
// and count as missing.
func svgLength(s string) float64 {
	s = strings.TrimSuffix(strings.TrimSpace(s), "px")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v
}

// svgActive are elements that run code or pull in other documents: a logo Heroku shows on
// its pages must be a picture only.
var svgActive = map[string]bool{"script": true, "foreignobject": true, "iframe": true, "object": true, "embed": true,
	"handler": true, "listener": true, "animate": false}

// svgSafe refuses an SVG that could run code or load anything: script and embedding
// elements, event-handler attributes (on*), links other than to its own fragments or inline
// images, style that imports, and DTD entities.
func svgSafe(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("svg: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if strings.Contains(strings.ToUpper(string(t)), "ENTITY") {
				return errors.New("svg must not declare entities")
			}
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("svg must not contain the processing instruction <?%s?>", t.Target)
			}
		case xml.CharData:
			if strings.Contains(strings.ToLower(string(t)), "@import") {
				return errors.New("svg style must not import")
			}
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if svgActive[name] {
				return fmt.Errorf("svg must not contain <%s> (a logo is a picture only)", t.Name.Local)
			}
			for _, a := range t.Attr {
				attr := strings.ToLower(a.Name.Local)
				val := strings.ToLower(strings.TrimSpace(a.Value))
				switch {
				case strings.HasPrefix(attr, "on"):
					return fmt.Errorf("svg must not have event handlers (%s)", a.Name.Local)
				case attr == "href" || attr == "src":
					if !strings.HasPrefix(val, "#") && !strings.HasPrefix(val, "data:image/png") && !strings.HasPrefix(val, "data:image/jpeg") {
						return fmt.Errorf("svg must not link outside itself (%s=%q)", a.Name.Local, a.Value)
					}
				case strings.Contains(val, "javascript:") || strings.Contains(val, "url(http") || strings.Contains(val, "@import"):
					return fmt.Errorf("svg attribute %s must not load or run anything", a.Name.Local)
				}
			}
		}
	}
}
