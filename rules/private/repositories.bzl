"""Repository rules: the Go SDK, Go module caches and a prebuilt relkit.

The repositories they create load relkit's rules as @relkit, the name relkit
must have in WORKSPACE (and has as a bzlmod module).

Everything downloaded is pinned by sha256 (the SDK and relkit) or checked
against go.sum (modules). Build actions never fetch anything.
"""

load(":versions.bzl", "GO_TOOLCHAIN_SHA256", "GO_VERSION", "RELKIT_SHA256")

_GOPROXY = "https://proxy.golang.org"

def _host_platform(rctx):
    """Returns the host as (goos, goarch)."""
    name = rctx.os.name.lower()
    if name.startswith("linux"):
        goos = "linux"
    elif name.startswith("mac os"):
        goos = "darwin"
    else:
        fail("relkit's Go SDK rule supports Linux and macOS hosts, not %s" % rctx.os.name)

    # rctx.os.arch is Bazel 5+.
    arch = getattr(rctx.os, "arch", None) or _exec(rctx, ["uname", "-m"], "uname -m").stdout.strip()
    goarch = {"amd64": "amd64", "x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(arch)
    if not goarch:
        fail("relkit's Go SDK rule supports amd64 and arm64 hosts, not %s" % arch)
    return goos, goarch

def _exec(rctx, args, what, **kwargs):
    res = rctx.execute(args, **kwargs)
    if res.return_code != 0:
        fail("%s failed (exit %d):\n%s%s" % (what, res.return_code, res.stdout, res.stderr))
    return res

def _go_env(rctx, cache):
    return {
        "CGO_ENABLED": "0",
        "GOCACHE": str(rctx.path(cache)),
        "GOENV": "off",
        "GOFLAGS": "-mod=mod",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "HOME": str(rctx.path(cache)),
    }

_SDK_BUILD = """\
load("@relkit//rules/private:go_sdk.bzl", "go_sdk")

go_sdk(
    name = "sdk",
    builder = "{builder}",
    builder_args = {builder_args},
    go = "sdk/bin/go",
    srcs = glob(["sdk/VERSION", "sdk/pkg/tool/**"]),
    version = "{version}",
    visibility = ["//visibility:public"],
)
"""

def _go_sdk_repository_impl(rctx):
    version = rctx.attr.version
    host = rctx.attr.host or rctx.os.environ.get("RELKIT_HOST_GO") == "1"
    helper = rctx.attr.helper
    relkit = None
    if helper and not host:
        # First: resolving the label fetches relkit, which may restart this function.
        relkit = rctx.path(helper)
    if host:
        # Opt-in: use the Go already on the machine, if it is the pinned version.
        go = rctx.which("go")
        if not go:
            fail("go_sdk: host=True (or RELKIT_HOST_GO=1) but no go on PATH")
        goroot = _exec(rctx, [go, "env", "GOROOT"], "go env GOROOT").stdout.strip()
        got = _exec(rctx, [go, "env", "GOVERSION"], "go env GOVERSION").stdout.strip()
        if got != "go" + version:
            fail("go_sdk: the host Go is %s, but go%s is pinned; install it or drop the host opt-in to download the pinned SDK" % (got, version))
        rctx.symlink(goroot, "sdk")
    else:
        goos, goarch = _host_platform(rctx)
        key = "%s-%s" % (goos, goarch)
        tool_version = "v0.0.1-go%s.%s" % (version, key)

        # The module proxy serves every Go release as module golang.org/toolchain.
        url = "%s/golang.org/toolchain/@v/%s.zip" % (rctx.attr.goproxy, tool_version)
        sha256 = rctx.attr.sha256s.get(key) or (GO_TOOLCHAIN_SHA256.get(key, "") if version == GO_VERSION else "")
        if not sha256:
            fail(("go_sdk: no sha256 pinned for go{v} on {k}; relkit pins go{pinned}. For go{v}, pin the sha256 " +
                  "of {url}: sha256s = {{\"{k}\": \"...\"}} in go_release.sdk (MODULE.bazel) or " +
                  "go_sha256s in relkit_dependencies (WORKSPACE).").format(v = version, k = key, pinned = GO_VERSION, url = url))
        if helper:
            # relkit writes a third of the zip's files, all that builds read,
            # several times faster than Bazel extracts the whole zip.
            rctx.download(url = url, sha256 = sha256, output = "sdk.zip")
            _exec(rctx, [relkit, "go-sdk", "unpack", "sdk.zip", "sdk"], "relkit go-sdk unpack")
            rctx.delete("sdk.zip")
        else:
            rctx.download_and_extract(url = url, sha256 = sha256, stripPrefix = "golang.org/toolchain@" + tool_version, output = "sdk")

            # Module zips carry no file modes; the go command does the same on a toolchain switch.
            _exec(rctx, ["chmod", "-R", "a+x", "sdk/bin", "sdk/pkg/tool"], "chmod")

    if helper:
        builder, builder_args = str(helper), ["action-helper"]
    else:
        # Compiled here because nothing can build Go in an action before it exists.
        builder, builder_args = "builder", []
        _compile_action_helper(rctx)
    rctx.file("BUILD.bazel", _SDK_BUILD.format(version = version, builder = builder, builder_args = repr(builder_args)))

def _compile_action_helper(rctx):
    # The helper's two files, as the relkit module they belong to.
    src = "helper_src"
    rctx.file(src + "/go.mod", "module github.com/relkit/relkit\n\ngo 1.21\n")
    rctx.symlink(rctx.attr._builder_main, src + "/rules/private/builder/main.go")
    rctx.symlink(rctx.attr._helper_src, src + "/tools/actionhelper/actionhelper.go")
    env = _go_env(rctx, "tmp")
    if rctx.os.environ.get("RELKIT_GOCACHE"):
        env["GOCACHE"] = rctx.os.environ["RELKIT_GOCACHE"]
    _exec(
        rctx,
        [str(rctx.path("sdk/bin/go")), "build", "-trimpath", "-buildvcs=false", "-ldflags=-buildid=", "-o", str(rctx.path("builder")), "./rules/private/builder"],
        "building the relkit action helper",
        environment = env,
        working_directory = src,
    )
    rctx.delete("tmp")

go_sdk_repository = repository_rule(
    implementation = _go_sdk_repository_impl,
    doc = """Provides the Go SDK the relkit rules build with, as `@<name>//:sdk`.

By default it downloads the pinned release from the Go module proxy, where every
Go release is published as module `golang.org/toolchain`, and checks its sha256.
`host = True`, or `RELKIT_HOST_GO=1` in the environment, uses the `go` on PATH
instead; it must be the pinned version.

Build actions run through relkit's action helper. With `helper`, the label of
a prebuilt relkit binary, they run `relkit action-helper`, and relkit unpacks
the SDK (`relkit go-sdk unpack`: only what builds read). Otherwise the
repository extracts the whole SDK and compiles the helper with it (needed
where relkit itself is built from source), which takes several seconds on
every fresh machine.
`RELKIT_GOCACHE=/abs/dir` (in the environment or `--repo_env`) lends a Go
build cache to that compile; give it the directory of
`--@relkit//release:gocache` and the build reuses what that compile leaves.""",
    attrs = {
        "version": attr.string(default = GO_VERSION, doc = "Go version, without the 'go' prefix."),
        "sha256s": attr.string_dict(
            doc = "sha256 of the golang.org/toolchain module zip per host, keyed 'linux-amd64'; default: relkit's pins, for the version relkit pins.",
        ),
        "host": attr.bool(default = False, doc = "Use the host's Go SDK (explicit opt-in)."),
        "goproxy": attr.string(default = _GOPROXY, doc = "Go module proxy base URL."),
        "helper": attr.label(doc = "A prebuilt relkit binary to unpack the SDK and run build actions with; default: compile the action helper."),
        "_builder_main": attr.label(default = "//rules/private/builder:main.go", allow_single_file = True),
        "_helper_src": attr.label(default = "//:tools/actionhelper/actionhelper.go", allow_single_file = True),
    },
    # Not RELKIT_GOCACHE: a cache changes no output, so it needs no refetch.
    environ = ["RELKIT_HOST_GO", "PATH"],
)

_MODULES_BUILD = """\
load("@relkit//rules/private:go_sdk.bzl", "go_module_cache")

go_module_cache(
    name = "modules",
    marker = "go.sum",
    visibility = ["//visibility:public"],
)
"""

def _go_modules_repository_impl(rctx):
    rctx.symlink(rctx.attr.go_mod, "src/go.mod")
    go_sum = rctx.read(rctx.attr.go_sum)
    rctx.file("src/go.sum", go_sum)
    shared = rctx.os.environ.get("RELKIT_GOMODCACHE", "")
    if shared:
        # Opt-in: reuse a machine-wide module cache. Its content is still
        # checked against go.sum, by `go mod download` here and by `go build`.
        rctx.symlink(shared, "gomodcache")
    env = _go_env(rctx, "tmp")
    env.update({
        "GOMODCACHE": str(rctx.path("gomodcache")),
        "GOPROXY": rctx.os.environ.get("RELKIT_GOPROXY", rctx.attr.goproxy),
        # go.sum is the only source of truth; no checksum database is asked.
        "GOSUMDB": "off",
    })
    _exec(
        rctx,
        [str(rctx.path(rctx.attr._go)), "mod", "download"],
        "go mod download for %s" % rctx.attr.go_mod,
        environment = env,
        working_directory = "src",
    )
    if rctx.read("src/go.sum") != go_sum:
        fail("%s lacks checksums for some required modules; run `go mod tidy` and commit go.sum" % rctx.attr.go_sum)
    rctx.delete("tmp")

    # The marker is what build actions depend on: go.sum names every module by hash.
    rctx.file("go.sum", go_sum)
    rctx.file("BUILD.bazel", _MODULES_BUILD)

go_modules_repository = repository_rule(
    implementation = _go_modules_repository_impl,
    doc = """Downloads the modules a go.mod needs into a module cache, checked against go.sum.

`go_release_binary(modules = "@<name>//:modules")` builds with it and with
GOPROXY=off. `RELKIT_GOMODCACHE=/abs/dir` shares one module cache between
workspaces; `RELKIT_GOPROXY` overrides the proxy (e.g. a file:// mirror).""",
    attrs = {
        "go_mod": attr.label(mandatory = True, allow_single_file = True, doc = "The go.mod file."),
        "go_sum": attr.label(mandatory = True, allow_single_file = True, doc = "Its go.sum file."),
        "goproxy": attr.string(default = _GOPROXY, doc = "Go module proxy."),
        "_go": attr.label(default = "@relkit_go_sdk//:sdk/bin/go", allow_single_file = True),
    },
    environ = ["RELKIT_GOMODCACHE", "RELKIT_GOPROXY"],
)

_RELKIT_BINARY_BUILD = """\
load("@relkit//rules/toolchains:relkit_toolchain.bzl", "relkit_toolchain")

relkit_toolchain(
    name = "relkit",
    relkit = "relkit_bin",
    version = "{version}",
    visibility = ["//visibility:public"],
)

exports_files(["relkit_bin"])
"""

_RELKIT_TOOLCHAIN_BUILD = """\
# relkit {version} as the relkit toolchain. Its binary comes from
# @{binary_repo}, downloaded only when the toolchain is selected (or the Go SDK
# repository runs it): toolchain resolution reads this package alone.
toolchain(
    name = "toolchain",
    exec_compatible_with = {exec_constraints},
    toolchain = "@{binary_repo}//:relkit",
    toolchain_type = "@relkit//rules/toolchains:relkit_toolchain_type",
)
"""

_CONSTRAINTS = {
    "darwin-amd64": ["@platforms//os:osx", "@platforms//cpu:x86_64"],
    "darwin-arm64": ["@platforms//os:osx", "@platforms//cpu:aarch64"],
    "linux-amd64": ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    "linux-arm64": ["@platforms//os:linux", "@platforms//cpu:aarch64"],
}

_RELKIT_URL = "https://github.com/relkit/relkit/releases/download/{version}/relkit-{version}-{platform}.{ext}"

def _relkit_binary_repository_impl(rctx):
    goos, goarch = _host_platform(rctx)
    key = "%s-%s" % (goos, goarch)
    version = rctx.attr.version

    # relkit's own release archives Linux binaries as .tar.gz, macOS ones as .zip.
    url = rctx.attr.url_template.format(version = version, platform = key, ext = "tar.gz" if goos == "linux" else "zip")
    sha256 = rctx.attr.sha256s.get(key) or RELKIT_SHA256.get(version, {}).get(key, "")
    if not sha256:
        fail(("relkit_prebuilt: no sha256 pinned for relkit {v} on {k}. Pin the sha256 of {url} (its " +
              "release's checksums file lists it): sha256s = {{\"{k}\": \"...\"}} in go_release.relkit " +
              "(MODULE.bazel) or relkit_prebuilt (WORKSPACE). Or build relkit from source, as " +
              "relkit's examples do.").format(v = version, k = key, url = url))
    rctx.download_and_extract(url = url, sha256 = sha256)
    rctx.symlink("relkit", "relkit_bin")
    rctx.file("BUILD.bazel", _RELKIT_BINARY_BUILD.format(version = version))

_relkit_binary_repository = repository_rule(
    implementation = _relkit_binary_repository_impl,
    doc = "Downloads a released relkit binary for the host, pinned by sha256.",
    attrs = {
        "version": attr.string(mandatory = True),
        "sha256s": attr.string_dict(),
        "url_template": attr.string(mandatory = True),
    },
)

def _relkit_toolchain_repository_impl(rctx):
    goos, goarch = _host_platform(rctx)
    rctx.file("BUILD.bazel", _RELKIT_TOOLCHAIN_BUILD.format(
        version = rctx.attr.version,
        binary_repo = rctx.attr.binary_repo,
        exec_constraints = repr(_CONSTRAINTS["%s-%s" % (goos, goarch)]),
    ))

_relkit_toolchain_repository = repository_rule(
    implementation = _relkit_toolchain_repository_impl,
    doc = "Declares the toolchain of a relkit binary repository, without downloading it.",
    attrs = {
        "version": attr.string(mandatory = True),
        "binary_repo": attr.string(mandatory = True),
    },
)

def relkit_prebuilt_binary(name):
    """Returns the label of the binary of relkit_prebuilt_repositories(name)."""
    return "@%s_binary//:relkit_bin" % name

def relkit_prebuilt_repositories(name, version, sha256s = {}, url_template = None):
    """Declares a released relkit binary for the host, pinned by sha256.

    Two repositories: `@<name>_binary` downloads it; `@<name>` holds the
    toolchain to register (`@<name>//:toolchain`), so registering it
    downloads nothing until it is selected.

    Args:
      name: repository name.
      version: relkit release tag, e.g. "v1.0.0".
      sha256s: sha256 per host ("linux-amd64"); default: the table in versions.bzl.
      url_template: download URL with {version}, {platform} ("linux-amd64") and
        {ext} ("tar.gz" on Linux, "zip" on macOS); default: GitHub releases.
    """
    _relkit_binary_repository(
        name = name + "_binary",
        version = version,
        sha256s = sha256s,
        url_template = url_template or _RELKIT_URL,
    )
    _relkit_toolchain_repository(name = name, version = version, binary_repo = name + "_binary")

_MSITOOLS_BUILD = """\
# The host's msitools as this repository recorded them: an input of every
# msi_package action, so an upgrade rebuilds the installers.
exports_files(["version.txt"])
"""

# Debian packages whose code shapes the MSI bytes: wixl, msibuild, libmsi, libgcab.
_MSITOOLS_PACKAGES = ["wixl", "msitools", "libmsi*", "libgcab*"]

def _msitools_repository_impl(rctx):
    lines = []
    for tool in ["wixl", "msibuild", "msiinfo"]:
        path = rctx.which(tool)
        if not path:
            # The MSI action names the missing tools itself.
            lines.append("%s not found" % tool)
            continue
        if hasattr(rctx, "watch"):
            # Bazel 7.1+: refetched as soon as the binary changes.
            rctx.watch(path)
    wixl = rctx.which("wixl")
    if wixl:
        res = rctx.execute([wixl, "--version"])
        lines.append("wixl %s" % (res.stdout.strip() if res.return_code == 0 else "(--version failed)"))

    # On Debian, the package versions also catch a rebuilt library or a
    # distribution patch that leaves wixl's own version alone.
    dpkg = rctx.which("dpkg-query")
    if dpkg:
        res = rctx.execute([dpkg, "-W", "-f=${db:Status-Abbrev}${Package} ${Version}\n"] + _MSITOOLS_PACKAGES)
        for line in res.stdout.splitlines():
            if line.startswith("ii "):
                lines.append("dpkg " + line[3:].strip())
    rctx.file("version.txt", "\n".join(sorted(lines)) + "\n")
    rctx.file("BUILD.bazel", _MSITOOLS_BUILD)

msitools_repository = repository_rule(
    implementation = _msitools_repository_impl,
    doc = """Records the host's wixl and msitools versions in `@<name>//:version.txt`.

msi_package actions run wixl and msibuild from the host, which Bazel does not
see; this file is one of their inputs, so installers built by another msitools
version are never taken from a cache. The file holds versions only (`wixl
--version`, and on Debian the versions of the wixl, msitools, libmsi and
libgcab packages), no paths, so machines with the same tools share cache
entries. The repository is local: Bazel re-reads the versions when its server
starts, when PATH changes, on `bazel sync --configure`, and on Bazel 7.1+ as
soon as a tool's binary changes.""",
    configure = True,
    environ = ["PATH"],
    local = True,
)
