package frame

// Extension is one element of a Sec-WebSocket-Extensions list: a name and
// its parameters, in order (RFC 6455 §9.1).
type Extension struct {
	// Name is the extension token, lower-cased.
	Name string
	// Params are the extension parameters in the order they appeared.
	Params []ExtensionParam
}

// ExtensionParam is one parameter of an [Extension].
type ExtensionParam struct {
	// Name is the parameter token, lower-cased.
	Name string
	// Value is the parameter value, unquoted and unescaped when it was sent
	// as a quoted-string. It is empty when HasValue is false.
	Value string
	// HasValue reports that the parameter had an "=value" part.
	HasValue bool
}

// ParseExtensions parses every line of the Sec-WebSocket-Extensions header
// into its elements, in order. A request may carry the header on several
// lines, each a comma-separated list; the lines are treated as one list
// (RFC 7230 §3.2.2).
//
// The grammar is that of RFC 6455 §9.1 with the token and quoted-string
// rules of RFC 7230 §3.2.6:
//
//	extension-list = 1#extension
//	extension      = extension-token *( ";" extension-param )
//	extension-param = token [ "=" ( token / quoted-string ) ]
//
// Optional whitespace (SP or HTAB) is allowed around ',', ';' and '='.
// Extension and parameter names are case-insensitive, so they are returned
// lower-cased; values are returned as sent, after quoted-string unescaping.
// RFC 6455 §9.1 requires a quoted value to be a token once unescaped, so a
// quoted value that is not is malformed.
//
// An element that does not match the grammar (a character outside the
// token set, an unterminated quoted-string, an empty name, '=' without a
// value, a stray ';', ...) is dropped: parsing resumes after the next comma
// that is not inside a quoted-string, and the remaining elements are still
// returned. Empty list elements, as in ", ,", are ignored (RFC 7230 §7).
// Dropping rather than failing lets a server decline what it cannot read
// and still answer the handshake (RFC 7692 §5); a client that wants to be
// strict about the server's response must check the header itself.
//
// ParseExtensions never panics. It returns nil when no element survives.
func ParseExtensions(lines [][]byte) []Extension {
	var out []Extension
	for _, line := range lines {
		start := 0
		for start <= len(line) {
			end := nextListComma(line, start)
			if e, ok := parseExtensionElement(line[start:end]); ok {
				out = append(out, e)
			}
			start = end + 1
		}
	}
	return out
}

// nextListComma returns the index of the first comma at or after i that is
// not inside a quoted-string, or len(b) if there is none. A '"' opens a
// quoted-string wherever it appears, as the HTTP tokenizer sees it; inside
// one, a backslash escapes the next byte (RFC 7230 §3.2.6). An unterminated
// quoted-string runs to the end of b.
func nextListComma(b []byte, i int) int {
	inQuote := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case inQuote && c == '\\':
			i++ // skip the escaped byte, whatever it is
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ',':
			return i
		}
	}
	return len(b)
}

// parseExtensionElement parses one list element, the bytes between two
// top-level commas. It returns ok == false for an empty element and for a
// malformed one.
func parseExtensionElement(b []byte) (Extension, bool) {
	var e Extension
	i := skipOWS(b, 0)
	if i == len(b) {
		return e, false // empty list element
	}
	name, i := scanToken(b, i)
	if name == "" {
		return e, false
	}
	e.Name = name
	for {
		i = skipOWS(b, i)
		if i == len(b) {
			return e, true
		}
		if b[i] != ';' {
			return Extension{}, false
		}
		var p ExtensionParam
		var ok bool
		p, i, ok = parseExtensionParam(b, skipOWS(b, i+1))
		if !ok {
			return Extension{}, false
		}
		e.Params = append(e.Params, p)
	}
}

// parseExtensionParam parses token [ OWS "=" OWS ( token / quoted-string ) ]
// starting at b[i], which is past any leading whitespace. It returns the
// index just after the parameter.
func parseExtensionParam(b []byte, i int) (ExtensionParam, int, bool) {
	var p ExtensionParam
	p.Name, i = scanToken(b, i)
	if p.Name == "" {
		return p, i, false
	}
	j := skipOWS(b, i)
	if j == len(b) || b[j] != '=' {
		return p, i, true
	}
	j = skipOWS(b, j+1)
	if j == len(b) {
		return p, j, false // '=' without a value
	}
	if b[j] == '"' {
		v, next, ok := scanQuotedToken(b, j)
		if !ok {
			return p, next, false
		}
		p.Value, p.HasValue = v, true
		return p, next, true
	}
	// A token value keeps its case: only names are case-insensitive.
	k := j
	for k < len(b) && isTokenChar(b[k]) {
		k++
	}
	if k == j {
		return p, k, false
	}
	p.Value, p.HasValue = string(b[j:k]), true
	return p, k, true
}

// scanToken reads a token (RFC 7230 §3.2.6) at b[i] and returns it
// lower-cased with the index after it; the token is empty if b[i] is not
// a token character.
func scanToken(b []byte, i int) (string, int) {
	j := i
	upper := false
	for j < len(b) && isTokenChar(b[j]) {
		if 'A' <= b[j] && b[j] <= 'Z' {
			upper = true
		}
		j++
	}
	if !upper {
		return string(b[i:j]), j
	}
	s := make([]byte, j-i)
	for k, c := range b[i:j] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		s[k] = c
	}
	return string(s), j
}

// scanQuotedToken reads the quoted-string that starts with the '"' at b[i]
// and returns its unescaped content and the index after the closing quote.
// It fails if the string is unterminated, holds a byte that is neither
// qdtext nor a quoted-pair (RFC 7230 §3.2.6), or does not unescape to a
// non-empty token, as RFC 6455 §9.1 requires of extension parameter values.
func scanQuotedToken(b []byte, i int) (string, int, bool) {
	var v []byte
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			if len(v) == 0 {
				return "", j + 1, false
			}
			return string(v), j + 1, true
		case c == '\\':
			j++
			if j == len(b) {
				return "", j, false
			}
			c = b[j]
		}
		// Every byte a quoted-string may carry, escaped or not, that is also
		// a token character; anything else cannot be part of a token value.
		if !isTokenChar(c) {
			return "", j, false
		}
		v = append(v, c)
	}
	return "", len(b), false // unterminated
}

// skipOWS returns the index of the first byte at or after i that is not
// optional whitespace (SP or HTAB, RFC 7230 §3.2.3).
func skipOWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// isTokenChar reports whether c is a tchar of RFC 7230 §3.2.6:
// "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
// "`" / "|" / "~" / DIGIT / ALPHA.
func isTokenChar(c byte) bool {
	return c < 128 && tokenTable[c]
}

// tokenTable marks the tchar bytes.
var tokenTable = func() [128]bool {
	var t [128]bool
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
