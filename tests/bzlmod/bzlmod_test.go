package bzlmod

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

var repoRoot = func() string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return dir
}()

// A connector that uses relkit as its users do: the prebuilt relkit, its own
// Go modules.
const userModule = `module(name = "baton_user")

bazel_dep(name = "relkit", version = "0.1.0")
local_path_override(module_name = "relkit", path = %q)

go_release = use_extension("@relkit//rules:extensions.bzl", "go_release")
go_release.modules(name = "user_go_modules", go_mod = "//:go.mod", go_sum = "//:go.sum")
use_repo(go_release, "user_go_modules")
`

// userGraph loads the user module, with extra lines appended to it and
// the overlay's files in place of relkit's.
func userGraph(t *testing.T, extra string, overlay map[string]string) (*graph, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "MODULE.bazel"), []byte(fmt.Sprintf(userModule, repoRoot)+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return loadAndRun(dir, overlay)
}

func loadAndRun(dir string, overlay map[string]string) (*graph, error) {
	g, err := loadGraph(dir, readFile(overlay))
	if err != nil {
		return nil, err
	}
	return g, g.runRelkitExtension()
}

// relkitFile returns the path of one of relkit's files and its content with
// old replaced by new, failing if old is not there (the test is stale).
func relkitFile(t *testing.T, name, old, new string) map[string]string {
	t.Helper()
	p := filepath.Join(repoRoot, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s no longer contains %q; update this test", name, old)
	}
	return map[string]string{p: strings.Replace(string(b), old, new, 1)}
}

// Every module graph relkit ships resolves under bzlmod, and the go_release
// extension declares what each needs: the Go SDK repository runs the prebuilt
// relkit for users, and a helper compiled from source for relkit's own builds.
func TestModuleGraphs(t *testing.T) {
	relkitRepos := []string{"relkit_go_modules", "relkit_go_sdk", "relkit_msitools", "relkit_prebuilt", "relkit_prebuilt_binary"}
	for _, tc := range []struct {
		name   string
		dir    string // "" for the user module
		helper starlark.Value
		repos  []string
	}{
		{"relkit", repoRoot, starlark.None, relkitRepos},
		{"baton-example", filepath.Join(repoRoot, "examples/baton-example"), starlark.None, relkitRepos},
		{"baton-example-rules-go", filepath.Join(repoRoot, "examples/baton-example-rules-go"), starlark.None, relkitRepos},
		{"user", "", starlark.String("@relkit_prebuilt_binary//:relkit_bin"), append([]string{"user_go_modules"}, relkitRepos...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g *graph
			var err error
			if tc.dir == "" {
				g, err = userGraph(t, "", nil)
			} else {
				g, err = loadAndRun(tc.dir, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Sorted(slices.Values(tc.repos))
			if got := sortedKeys(g.repos); !slices.Equal(got, want) {
				t.Errorf("go_release declares %s, want %s", got, want)
			}
			sdk := g.repos["relkit_go_sdk"]
			if sdk == nil {
				t.Fatal("no relkit_go_sdk")
			}
			if got := sdk.attrs["helper"]; got != tc.helper {
				t.Errorf("relkit_go_sdk helper = %v, want %v", got, tc.helper)
			}
		})
	}
}

// A tag's labels resolve in the module that wrote the tag, not in relkit.
func TestTagLabelsResolveInTheirModule(t *testing.T) {
	g, err := userGraph(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := g.repos["user_go_modules"].attrs["go_mod"].(*labelValue)
	if !ok || got.repo != (repoRef{module: "baton_user"}) || got.target != "//:go.mod" {
		t.Errorf("user_go_modules go_mod = %v, want baton_user's //:go.mod", g.repos["user_go_modules"].attrs["go_mod"])
	}
}

// A connector may build with a Go release relkit does not pin, giving its sha256s.
func TestUserPinsAnotherGo(t *testing.T) {
	g, err := userGraph(t, `go_release.sdk(version = "1.26.9", sha256s = {"linux-amd64": "`+strings.Repeat("0", 64)+`"})`+"\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	sdk := g.repos["relkit_go_sdk"].attrs
	if sdk["version"] != starlark.String("1.26.9") {
		t.Errorf("relkit_go_sdk version = %v, want 1.26.9", sdk["version"])
	}
	if d, ok := sdk["sha256s"].(*starlark.Dict); !ok || d.Len() != 1 {
		t.Errorf("relkit_go_sdk sha256s = %v, want the pinned one", sdk["sha256s"])
	}
}

// The check finds the mistakes Bazel 7/8 would stop at, and says where.
func TestFindsMistakes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		extra   string
		overlay func(t *testing.T) map[string]string
		want    []string
	}{
		{
			name: "relkit does not import the prebuilt binary it runs",
			overlay: func(t *testing.T) map[string]string {
				return relkitFile(t, "MODULE.bazel", `, "relkit_prebuilt_binary")`, ")")
			},
			want: []string{"relkit_go_sdk", "helper", "@relkit_prebuilt_binary is not visible from module relkit"},
		},
		{
			name: "a repository rule's default label names an invisible repository",
			overlay: func(t *testing.T) map[string]string {
				return relkitFile(t, "rules/private/repositories.bzl", `"@relkit_go_sdk//:sdk/bin/go"`, `"@go_sdk//:sdk/bin/go"`)
			},
			want: []string{"user_go_modules", "_go", "@go_sdk is not visible from module relkit"},
		},
		{
			name:  "misspelt tag attribute",
			extra: `go_release.sdk(verison = "1.26.8")` + "\n",
			want:  []string{"MODULE.bazel:9:", `go_release.sdk: no attribute "verison"`},
		},
		{
			name:  "unknown tag class",
			extra: `go_release.toolchain(version = "1.26.8")` + "\n",
			want:  []string{"MODULE.bazel:9:", `no tag class "toolchain"`},
		},
		{
			name:  "missing mandatory attribute",
			extra: "go_release.relkit()\n",
			want:  []string{"MODULE.bazel:9:", `go_release.relkit: missing mandatory attribute "version"`},
		},
		{
			name:  "wrong attribute type",
			extra: `go_release.sdk(host = "yes")` + "\n",
			want:  []string{"MODULE.bazel:9:", "host: got string, want a bool"},
		},
		{
			name:  "a string for a dict",
			extra: `go_release.relkit(version = "v1.0.0", sha256s = "abc")` + "\n",
			want:  []string{"MODULE.bazel:9:", "sha256s: got string, want a string_dict"},
		},
		{
			name:  "imports a repository go_release does not declare",
			extra: `use_repo(go_release, "relkit_go_sdkk")` + "\n",
			want:  []string{"MODULE.bazel:9:", `imports "relkit_go_sdkk", which go_release does not declare`},
		},
		{
			name:  "registers a toolchain from a repository it does not import",
			extra: `register_toolchains("@relkit_prebuilt//:toolchain")` + "\n",
			want:  []string{"MODULE.bazel:9:", "@relkit_prebuilt is not visible from module baton_user"},
		},
		{
			name:  "imports a name already taken",
			extra: `use_repo(go_release, relkit = "relkit_go_sdk")` + "\n",
			want:  []string{"MODULE.bazel:9:", `the repository name "relkit" is already used for module relkit`},
		},
		{
			name:  "a MODULE.bazel function the model lacks",
			extra: `single_version_override(module_name = "rules_go", version = "0.50.1")` + "\n",
			want:  []string{"undefined: single_version_override"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var overlay map[string]string
			if tc.overlay != nil {
				overlay = tc.overlay(t)
			}
			_, err := userGraph(t, tc.extra, overlay)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// The MODULE.bazel snippets of the README evaluate, with relkit from this
// checkout, and go_release runs for them.
func TestREADMEModuleSnippets(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range regexp.MustCompile("(?s)```starlark\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if !strings.Contains(block[1], "bazel_dep(") {
			continue // a BUILD file
		}
		n++
		dir := t.TempDir()
		src := block[1] + fmt.Sprintf("local_path_override(module_name = \"relkit\", path = %q)\n", repoRoot)
		if err := os.WriteFile(filepath.Join(dir, "MODULE.bazel"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadAndRun(dir, nil); err != nil {
			t.Errorf("README snippet %d:\n%s\n%v", n, block[1], err)
		}
	}
	if n < 2 {
		t.Errorf("found %d MODULE.bazel snippets in README.md, want the plain and the rules_go one", n)
	}
}

// Files read only by Bazel 4.2's WORKSPACE setup, whose repository names bzlmod never sees.
var workspaceOnly = map[string]bool{
	"rules/bazel4.bzl":                  true,
	"rules/repositories.bzl":            true,
	"rules/rules_go_deps.bzl":           true,
	"rules/rules_go_bazel4/BUILD.bazel": true,
}

var repoInLabel = regexp.MustCompile(`(?:^|[^@\w])@(\w[\w.-]*)//`)

// Every "@repo//" in a string of a BUILD or .bzl file names a repository its
// module sees under bzlmod. relkit's rules are read in the user's graph, where
// relkit is a dependency and its dev_dependency declarations count for nothing.
func TestLabelsInFilesResolve(t *testing.T) {
	users, err := userGraph(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]*module{} // module directory -> its module
	for _, dir := range []string{".", "examples/baton-example", "examples/baton-example-rules-go"} {
		g, err := loadGraph(filepath.Join(repoRoot, dir), readFile(nil))
		if err != nil {
			t.Fatal(err)
		}
		views[dir] = g.modules[0]
	}
	checked := 0
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "bazel-") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if name != "BUILD.bazel" && name != "BUILD" && !strings.HasSuffix(name, ".bzl") || workspaceOnly[rel] {
			return nil
		}
		m := views["."]
		for dir, v := range views {
			if strings.HasPrefix(rel, dir+"/") {
				m = v
			}
		}
		if strings.HasPrefix(rel, "rules/") && !strings.HasPrefix(rel, "rules/tests/") {
			m = users.byName["relkit"]
		}
		checked++
		for _, repo := range repoNames(t, p) {
			if _, ok := m.mapping[repo]; !ok {
				t.Errorf("%s names @%s, which module %s does not see under bzlmod (it sees %s)", rel, repo, m.name, strings.Join(sortedKeys(m.mapping), ", "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Errorf("checked %d files; expected relkit's BUILD and .bzl files", checked)
	}
}

// repoNames returns the repositories named by string literals in a Starlark
// file, docstrings aside.
func repoNames(t *testing.T, p string) []string {
	t.Helper()
	f, err := syntax.Parse(p, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ExprStmt:
			if _, doc := n.X.(*syntax.Literal); doc {
				return false
			}
		case *syntax.Literal:
			if s, ok := n.Value.(string); ok {
				for _, m := range repoInLabel.FindAllStringSubmatch(s, -1) {
					names = append(names, m[1])
				}
			}
		}
		return true
	})
	return names
}
