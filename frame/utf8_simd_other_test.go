//go:build (!amd64 && !arm64) || purego

package frame

import "unicode/utf8"

// utf8TestImpls lists the implementations of validUTF8 on this platform:
// only utf8.Valid.
func utf8TestImpls() []utf8TestImpl {
	return []utf8TestImpl{{"generic", utf8Generic, utf8.Valid}}
}
