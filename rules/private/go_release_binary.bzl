"""go_release_binary: a Go main package built by the Go SDK's own `go build`."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load(":providers.bzl", "GoModuleCacheInfo", "GoReleaseBinaryInfo", "GoSdkInfo", "ReleaseStampInfo")
load(":stamp.bzl", "STAMP_KEYS")

_DOC = """Builds a Go main package with `go build -trimpath -buildvcs=false`, as a release would.

The binary is the same, byte for byte, as a plain `go build` with the same
Go version, flags and environment outside Bazel, so anyone can check a release
without Bazel:

    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -buildvcs=false \\
        -ldflags="-s -w -buildid= -X main.version=1.2.3 ..." -o baton-example ./cmd/baton-example

Like GoReleaser's default, binaries are stripped (`-s -w`: no symbol table or
DWARF; Go's build information, which SBOMs read, stays); `strip = False` keeps
them for debuggers and profilers.

GOOS and GOARCH come from the target platform's `@platforms//os` and
`@platforms//cpu` constraints, so `--platforms` or connector_release's
transition selects them. CGO is off. Modules come from `modules` (a
go_modules_repository checked against go.sum) with GOPROXY=off: nothing is
fetched while building.

`x_defs` values may reference `{TAG}` and `{VERSION}` (from
`--@relkit//release:tag`) and the stamp keys `{STABLE_GIT_COMMIT}`,
`{STABLE_COMMIT_EPOCH}` and `{STABLE_COMMIT_DATE}`, filled by Bazel stamping
(`--stamp`) with the commit and its commit time, never the wall clock.

Example:

    go_release_binary(
        name = "baton-example",
        srcs = glob(["**/*.go"], exclude = ["**/*_test.go"]),
        go_mod = "go.mod",
        package = "./cmd/baton-example",
        x_defs = {
            "main.version": "{VERSION}",
            "main.commit": "{STABLE_GIT_COMMIT}",
            "main.date": "{STABLE_COMMIT_DATE}",
        },
    )
"""

# GOOS and GOARCH for @platforms constraint values. Older @platforms has no
# arm64 alias of aarch64, so both are recognised.
_GOOS = {"_darwin": "darwin", "_linux": "linux", "_windows": "windows"}
_GOARCH = {"_aarch64": "arm64", "_arm64": "arm64", "_x86_64": "amd64"}

def target_goos_goarch(ctx):
    """Returns (goos, goarch) of the target platform, or fails naming it.

    Args:
      ctx: a rule context with the _<os>/_<cpu> constraint attributes.
    Returns:
      A (goos, goarch) tuple.
    """
    goos = [v for a, v in _GOOS.items() if ctx.target_platform_has_constraint(getattr(ctx.attr, a)[platform_common.ConstraintValueInfo])]
    goarch = [v for a, v in _GOARCH.items() if ctx.target_platform_has_constraint(getattr(ctx.attr, a)[platform_common.ConstraintValueInfo])]
    if not goos or not goarch:
        fail("%s: the target platform has no supported @platforms//os (osx, linux, windows) and @platforms//cpu (x86_64, aarch64) constraints; pass --platforms or build through connector_release" % ctx.label)
    return goos[0], goarch[0]

def substitute_known(value, known):
    """Replaces the {KEY} references whose values are known at analysis.

    Args:
      value: a string with {KEY} references.
      known: dict of KEY to value.
    Returns:
      The string with known references replaced; others are left for the stamp.
    """
    for k, v in known.items():
        value = value.replace("{%s}" % k, v)
    return value

def _go_release_binary_impl(ctx):
    sdk = ctx.attr._sdk[GoSdkInfo]
    goos, goarch = target_goos_goarch(ctx)
    out = ctx.actions.declare_file(ctx.attr.out or ctx.label.name + (".exe" if goos == "windows" else ""))

    tag = ctx.attr._tag[BuildSettingInfo].value
    known = {"TAG": tag, "VERSION": tag[1:] if tag.startswith("v") else tag}
    args = ctx.actions.args()
    args.use_param_file("--params=%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("gobuild")
    args.add("--go", sdk.go)
    args.add("--dir", ctx.file.go_mod.dirname or ".")
    args.add("--goos", goos)
    args.add("--goarch", goarch)
    args.add("--out", out)
    if ctx.attr.strip:
        args.add("--strip")
    if ctx.attr.gotags:
        args.add("--tags", ",".join(ctx.attr.gotags))
    gocache = ctx.attr._gocache[BuildSettingInfo].value
    if gocache:
        args.add("--gocache", gocache)
    inputs = [ctx.file.go_mod] + ctx.files.srcs + ctx.files.go_sum
    args.add_all(inputs, before_each = "--src")
    uses_stamp = False
    for name, value in sorted(ctx.attr.x_defs.items()):
        value = substitute_known(value, known)
        uses_stamp = uses_stamp or any(["{%s}" % k in value for k in STAMP_KEYS])
        args.add("-X", "%s=%s" % (name, value))
    if uses_stamp:
        stamp = ctx.attr._stamp[ReleaseStampInfo].file
        args.add("--stamp", stamp)
        inputs.append(stamp)
    if ctx.attr.modules:
        marker = ctx.attr.modules[GoModuleCacheInfo].marker
        args.add("--modcache", marker)
        inputs.append(marker)
    args.add(ctx.attr.package)

    ctx.actions.run(
        executable = sdk.builder,
        arguments = sdk.builder_args + [args],
        inputs = depset(inputs, transitive = [sdk.files]),
        outputs = [out],
        mnemonic = "GoReleaseBuild",
        progress_message = "Building %s for %s/%s (go build)" % (ctx.label, goos, goarch),
    )
    return [
        DefaultInfo(executable = out, files = depset([out])),
        GoReleaseBinaryInfo(binary = out, goos = goos, goarch = goarch, go_version = sdk.version, package = ctx.attr.package),
    ]

def _constraint(label):
    return attr.label(default = label, providers = [platform_common.ConstraintValueInfo])

go_release_binary = rule(
    implementation = _go_release_binary_impl,
    doc = _DOC,
    executable = True,
    attrs = {
        "srcs": attr.label_list(
            allow_files = True,
            doc = "Every file of the module the package needs: .go files and embedded files.",
        ),
        "go_mod": attr.label(mandatory = True, allow_single_file = ["go.mod"], doc = "The module's go.mod; its directory is the module root."),
        "go_sum": attr.label(allow_single_file = ["go.sum"], doc = "The module's go.sum, if it has dependencies."),
        "package": attr.string(default = ".", doc = "Main package, relative to the module root, e.g. './cmd/baton-example'."),
        "modules": attr.label(
            providers = [GoModuleCacheInfo],
            doc = "Module cache from go_modules_repository (`@<name>//:modules`); needed when go.mod has requirements.",
        ),
        "gotags": attr.string_list(doc = "Go build tags (`go build -tags`)."),
        "strip": attr.bool(default = True, doc = "Link with `-s -w` (GoReleaser's default): smaller binaries without symbol table or DWARF."),
        "x_defs": attr.string_dict(doc = "`-X` definitions: package.Var -> value with optional {KEY} references (see above)."),
        "out": attr.string(doc = "Output file name; default: the target name, plus .exe for Windows."),
        "_sdk": attr.label(default = "@relkit_go_sdk//:sdk", providers = [GoSdkInfo], cfg = "exec"),
        "_stamp": attr.label(default = "//rules/private:stamp", providers = [ReleaseStampInfo]),
        "_tag": attr.label(default = "//release:tag"),
        "_gocache": attr.label(default = "//release:gocache"),
        "_darwin": _constraint("@platforms//os:osx"),
        "_linux": _constraint("@platforms//os:linux"),
        "_windows": _constraint("@platforms//os:windows"),
        "_x86_64": _constraint("@platforms//cpu:x86_64"),
        "_aarch64": _constraint("@platforms//cpu:aarch64"),
        "_arm64": _constraint("@platforms//cpu:arm64"),
    },
)
