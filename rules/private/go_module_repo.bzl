"""go_module_repository: a Bazel repository from a Go module on the module proxy.

Bazel rule sets such as rules_go and gazelle are published as Go modules, so
the Go module proxy serves them where GitHub is out of reach. The module is
fetched with `go mod download -json`, its `h1:` sum is checked against the
pinned one, and the project's own patches are applied on top: no third-party
source is committed anywhere.
"""

_GOPROXY = "https://proxy.golang.org"

def _exec(rctx, args, what, **kwargs):
    res = rctx.execute(args, **kwargs)
    if res.return_code != 0:
        fail("%s: %s failed (exit %d):\n%s%s" % (rctx.name, what, res.return_code, res.stdout, res.stderr))
    return res

def _go_module_repository_impl(rctx):
    go = str(rctx.path(rctx.attr._go))
    mod = "%s@%s" % (rctx.attr.path, rctx.attr.version)

    # A module cache private to this fetch unless the machine lends one
    # (RELKIT_GOMODCACHE); either way the sum below is checked.
    modcache = rctx.os.environ.get("RELKIT_GOMODCACHE", "") or str(rctx.path(".modcache"))
    env = {
        "GOENV": "off",
        "GOFLAGS": "-modcacherw",
        "GOMODCACHE": modcache,
        "GOPROXY": rctx.attr.goproxy or rctx.os.environ.get("GOPROXY", "") or _GOPROXY,
        "GOSUMDB": "off",  # the pinned sum is the check
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "GOCACHE": str(rctx.path(".gocache")),
        "HOME": str(rctx.path(".home")),
    }

    rctx.report_progress("go mod download " + mod)
    res = _exec(rctx, [go, "mod", "download", "-json", mod], "go mod download " + mod, environment = env, working_directory = "/")
    info = json.decode(res.stdout)
    if info.get("Error"):
        fail("%s: go mod download %s: %s" % (rctx.name, mod, info["Error"]))
    if info["Sum"] != rctx.attr.sum:
        fail("%s: %s has sum %s, want %s; if the new version is intended, update sum" % (rctx.name, mod, info["Sum"], rctx.attr.sum))

    # The module cache is read-only and shared: copy, then make it ours.
    _exec(rctx, ["cp", "-R", info["Dir"] + "/.", "."], "copying " + mod)
    _exec(rctx, ["chmod", "-R", "u+w", "."], "chmod")

    for patch in rctx.attr.patches:
        _exec(rctx, ["patch", "-p1", "--batch", "--forward", "-i", str(rctx.path(patch))], "applying %s" % patch)

    if rctx.attr.vendor:
        # Module zips carry no vendor/ tree; some rule sets build tools from it.
        rctx.report_progress("go mod vendor " + mod)
        _exec(rctx, [go, "mod", "vendor"], "go mod vendor in " + mod, environment = env)

    for tmp in [".modcache", ".gocache", ".home"]:
        rctx.delete(tmp)

go_module_repository = repository_rule(
    implementation = _go_module_repository_impl,
    doc = """Makes a repository of a Go module fetched through the Go module proxy.

The module's `h1:` sum must equal `sum` (as in go.sum); `patches` are then
applied in order with `patch -p1`, and `vendor = True` runs `go mod vendor`.
The Go command is relkit's pinned SDK. `GOPROXY` comes from `goproxy`, else
the environment, else proxy.golang.org. `RELKIT_GOMODCACHE=/abs/dir` reuses a
module cache across fetches.""",
    attrs = {
        "path": attr.string(mandatory = True, doc = "Module path, e.g. github.com/bazelbuild/rules_go."),
        "version": attr.string(mandatory = True, doc = "Module version, e.g. v0.33.0."),
        "sum": attr.string(mandatory = True, doc = "The module's h1: sum, as in go.sum."),
        "patches": attr.label_list(allow_files = [".patch"], doc = "Patch files for patch -p1, applied in order."),
        "vendor": attr.bool(doc = "Run go mod vendor after patching."),
        "goproxy": attr.string(doc = "Go module proxy URL; default $GOPROXY, else proxy.golang.org."),
        "_go": attr.label(default = Label("@relkit_go_sdk//:sdk/bin/go")),
    },
    environ = ["GOPROXY", "RELKIT_GOMODCACHE"],
)
