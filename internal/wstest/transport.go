package wstest

import (
	"fmt"
	"io"
	"testing"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/network/standard"
)

func init() {
	hlog.SetOutput(io.Discard)
}

// Transport is one of Hertz's network transports; every end-to-end test
// runs on each.
type Transport struct {
	// Name names the transport in subtest names: "netpoll" or "standard".
	Name string
	// Options are the Hertz options that select it (none for netpoll,
	// Hertz's default).
	Options []config.Option
}

// Transports are the transports a server is tested on: netpoll and the
// standard library's net.
var Transports = []Transport{
	{Name: "netpoll"},
	{Name: "standard", Options: []config.Option{server.WithTransport(standard.NewTransporter)}},
}

// ForEachTransport runs f as a subtest, named after the transport, for
// each of Transports.
func ForEachTransport(t *testing.T, f func(t *testing.T, tr Transport)) {
	for _, tr := range Transports {
		tr := tr
		t.Run(tr.Name, func(t *testing.T) { f(t, tr) })
	}
}

// EngineSettings are the Hertz engine fields that change how hijacked
// connections are handled.
type EngineSettings struct {
	// NoHijackConnPool is Hertz's field of that name: hijacked
	// connections are not taken from and given back to a pool.
	NoHijackConnPool bool
	// KeepHijackedConns is Hertz's field of that name: Hertz does not
	// close a hijacked connection when its handler returns.
	KeepHijackedConns bool
}

// String names the settings, without the '/' that t.Run reads as a
// subtest separator.
func (s EngineSettings) String() string {
	return fmt.Sprintf("NoHijackConnPool=%v,KeepHijackedConns=%v", s.NoHijackConnPool, s.KeepHijackedConns)
}

// AllEngineSettings are the four combinations of EngineSettings.
var AllEngineSettings = []EngineSettings{{false, false}, {true, false}, {false, true}, {true, true}}

// ForEachEngine runs f as a subtest for every transport and every one of
// AllEngineSettings.
func ForEachEngine(t *testing.T, f func(t *testing.T, tr Transport, es EngineSettings)) {
	ForEachTransport(t, func(t *testing.T, tr Transport) {
		for _, es := range AllEngineSettings {
			es := es
			t.Run(es.String(), func(t *testing.T) { f(t, tr, es) })
		}
	})
}
