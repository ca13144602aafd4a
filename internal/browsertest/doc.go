// Package browsertest drives the example servers of github.com/hertzws/websocket
// with a real browser: Debian's headless Chromium, through the DevTools
// protocol (github.com/chromedp/chromedp).
//
// The tests build every web example with `go build -race` from the root
// module, start each one on 127.0.0.1 with its -addr flag, wait until it
// answers HTTP, then type into its page and assert what the page shows:
// echoes, chat messages between two tabs, a program's output, a file's new
// contents, and the permessage-deflate parameters the browser and the
// server agreed on. Each test saves a screenshot of its page in its temporary
// directory, and also in $BROWSERTEST_SCREENSHOTS when that is set.
//
// The package is a module of its own because chromedp needs a newer Go than
// the library's go.mod allows. `make test` at the repository root runs it.
// Chromium is found at $CHROMIUM, else /usr/bin/chromium (apt-get install
// chromium); without it the tests fail.
//
// The nginx tests put Debian's nginx, terminating TLS with a certificate
// made for the test, in front of the echo and chat examples and open their
// pages over https:// and wss:// through it. nginx is found at $NGINX, else
// /usr/sbin/nginx (apt-get install nginx); without it those tests fail.
package browsertest
