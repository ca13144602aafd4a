package browsertest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// commandScript is the program the command example runs in the test: it
// writes to both outputs, echoes input lines, exits with status 3 on
// "quit", and, once its stdin closes, ignores SIGTERM and hangs, so that
// only SIGKILL ends it.
const commandScript = `echo ready; echo "warming up" >&2
while read -r line; do
  [ "$line" = quit ] && exit 3
  echo "got: $line"
done
trap "" TERM
echo "stdin closed, ignoring SIGTERM"
sleep 30`

// outputHas is a JavaScript expression: does the output show text in a
// span of class cls?
func outputHas(cls, text string) string {
	return `[...document.querySelectorAll("#output span.` + cls + `")].map(s => s.textContent).join("").includes(` + jsString(text) + `)`
}

func TestCommandPage(t *testing.T) {
	srv := startExample(t, "command", "-grace", "300ms", "--", "sh", "-c", commandScript)
	browser := newBrowser(t)

	t.Run("output, input, and SIGKILL after the page leaves", func(t *testing.T) {
		tab := newTab(t, browser)
		step(t, tab, "open the page", chromedp.Navigate(srv.url+"/"))
		waitFor(t, tab, "the program to run", `document.querySelector("#state").textContent === "Running"`)
		waitFor(t, tab, "stdout", outputHas("stdout", "ready\n"))
		waitFor(t, tab, "stderr", outputHas("stderr", "warming up\n"))

		step(t, tab, "type a line", chromedp.SendKeys(chromedp.CSS("#line"), "hello, program"+kb.Enter))
		waitFor(t, tab, "the program's answer", outputHas("stdout", "got: hello, program\n"))
		step(t, tab, "type another", chromedp.SendKeys(chromedp.CSS("#line"), "zwei Wörter"+kb.Enter))
		waitFor(t, tab, "the second answer", outputHas("stdout", "got: zwei Wörter\n"))
		screenshot(t, tab, "command")

		pid := commandPID(t, textOf(t, tab, "#pid"))
		// The program leads a process group of its own, so that the
		// signals reach its children too.
		if live := groupMembers(t, pid); len(live) == 0 {
			t.Fatalf("pid %d leads no process group", pid)
		}
		step(t, tab, "disconnect", chromedp.Click(chromedp.CSS("#disconnect")))
		waitFor(t, tab, "the page to see the close", `document.querySelector("#state").textContent === "Closed"`)

		// The server closes stdin, waits, sends SIGTERM (ignored), waits,
		// and kills the process group.
		prefix := "command: pid " + strconv.Itoa(pid)
		srv.waitOutput(t, prefix+" still running after 300ms: sending SIGTERM")
		srv.waitOutput(t, prefix+" still running after 300ms: sending SIGKILL")
		srv.waitOutput(t, prefix+" exited: signal: killed")
		// Nothing of the group is left running, the shell's sleep included.
		// (A killed child may linger as a zombie until init reaps it.)
		deadline := time.Now().Add(5 * time.Second)
		for live := groupMembers(t, pid); len(live) > 0; live = groupMembers(t, pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process group %d still has live processes %v 5 s after SIGKILL", pid, live)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("the program exits first", func(t *testing.T) {
		tab := newTab(t, browser)
		step(t, tab, "open the page", chromedp.Navigate(srv.url+"/"))
		waitFor(t, tab, "the program to run", `document.querySelector("#state").textContent === "Running"`)
		pid := commandPID(t, textOf(t, tab, "#pid"))

		step(t, tab, "type quit", chromedp.SendKeys(chromedp.CSS("#line"), "quit"+kb.Enter))
		waitFor(t, tab, "the exit status", outputHas("info", "[exit status 3]"))
		// After the exit, the server closes the WebSocket with 1000.
		waitFor(t, tab, "the close", outputHas("info", "[connection closed, code 1000: program exited]"))
		if state := textOf(t, tab, "#state"); state != "Exited" {
			t.Errorf("state shows %q after the exit", state)
		}
		srv.waitOutput(t, "command: pid "+strconv.Itoa(pid)+" exited: exit status 3")
		screenshot(t, tab, "command-exited")
	})

	if out := srv.out.String(); strings.Contains(out, "did not exit after SIGKILL") {
		t.Errorf("a program outlived SIGKILL:\n%s", out)
	}
}

// commandPID reads the pid from the page's "pid N".
func commandPID(t *testing.T, text string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimPrefix(text, "pid "))
	if err != nil || pid <= 0 {
		t.Fatalf("bad pid %q: %v", text, err)
	}
	return pid
}

// groupMembers lists the processes of process group pgid that are not
// zombies, from /proc.
func groupMembers(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process has gone meanwhile
		}
		// "pid (comm) state ppid pgrp ...": comm may hold spaces and
		// parentheses, so split after the last ')'.
		line := string(data)
		end := strings.LastIndexByte(line, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(line[end+1:])
		if len(fields) < 3 || fields[0] == "Z" {
			continue
		}
		if g, err := strconv.Atoi(fields[2]); err == nil && g == pgid {
			live = append(live, line[:end+1])
		}
	}
	return live
}
