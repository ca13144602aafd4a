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

// webExamples are the examples with a page in the root module, built for
// the tests; chat is a module of its own (see buildExamples).
var webExamples = []string{"echo", "command", "filewatch", "compression", "push"}

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
	if err := goBuild(root, args); err != nil {
		return err
	}
	// The chat example is a module of its own (its Redis client needs a
	// newer Go than the library); it is built from its folder.
	return goBuild(filepath.Join(root, "examples", "chat"), []string{"build", "-race", "-o", filepath.Join(dir, "chat"), "."})
}

// goBuild runs the go command with args in dir.
func goBuild(dir string, args []string) error {
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
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
