//go:build (!amd64 && !arm64) || purego

package frame

import "unicode/utf8"

// utf8VectorMin is the length from which validUTF8 would use vector code;
// there is none for this platform, so every input goes to utf8.Valid.
const utf8VectorMin = 0

// utf8Use is always utf8Generic here; tests read it.
var utf8Use = utf8Generic

// validUTF8Vector is utf8.Valid.
func validUTF8Vector(p []byte) bool { return utf8.Valid(p) }
