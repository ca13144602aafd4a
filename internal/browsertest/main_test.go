package browsertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binDir holds the example binaries, built once by TestMain.
var binDir string

// webExamples are the examples with a page, built for the tests.
var webExamples = []string{"echo", "chat", "command", "filewatch", "compression"}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "browsertest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		os.Exit(1)
	}
	binDir = dir
	if err := buildExamples(dir); err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the root module's directory, two levels up from this package.
func repoRoot() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(string(mod), "module github.com/hertzws/websocket\n") {
		return "", fmt.Errorf("%s is not the root of github.com/hertzws/websocket", root)
	}
	return root, nil
}

// buildExamples builds the web examples into dir with the race detector,
// so that a data race an example hits under the browser's traffic shows up
// in its output (see startExample).
func buildExamples(dir string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	args := []string{"build", "-race", "-o", dir + string(filepath.Separator)}
	for _, name := range webExamples {
		args = append(args, "./examples/"+name)
	}
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// goTool is the go command: the one on PATH, else the one at /usr/local/go,
// where this project's machines keep Go.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}
