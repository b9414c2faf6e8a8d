package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sync"
)

// The feeds name BaseURL/favicon.ico (Atom icon, JSON Feed favicon) and BaseURL/logo.png (RSS
// image, Atom logo, JSON Feed icon). Readers show them next to the feed title, so they must exist:
// a plain square in the portal's red, drawn once.
var iconPNG = sync.OnceValue(func() []byte {
	const size = 144
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	red := color.RGBA{0xb3, 0x12, 0x1a, 0xff}
	for y := range size {
		for x := range size {
			img.Set(x, y, red)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("web: encode icon: " + err.Error()) // an in-memory RGBA image always encodes
	}
	return buf.Bytes()
})
