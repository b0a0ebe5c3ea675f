"""bzlmod setup of the relkit rules (Bazel 7/8).

    go_release = use_extension("@relkit//rules:extensions.bzl", "go_release")
    go_release.modules(name = "my_go_modules", go_mod = "//:go.mod", go_sum = "//:go.sum")
    use_repo(go_release, "my_go_modules")

The Go SDK (`relkit_go_sdk`), the host's msitools version (`relkit_msitools`)
and relkit's prebuilt binary, which also sets up the SDK and runs the build
actions, are declared by relkit's own MODULE.bazel; a root module may pin the
SDK differently with `go_release.sdk(version = ..., sha256s = ...)` or use the
host's with `go_release.sdk(host = True)`.
"""

load("//rules/private:go_release_extension.bzl", "go_release_config")
load(
    "//rules/private:repositories.bzl",
    "go_modules_repository",
    "go_sdk_repository",
    "msitools_repository",
    "relkit_prebuilt_repositories",
)
load("//rules/private:versions.bzl", "GO_VERSION")

def _go_release_impl(mctx):
    cfg = go_release_config(mctx.modules)
    go_sdk_repository(**cfg.sdk)
    msitools_repository(name = "relkit_msitools")
    for kwargs in cfg.modules:
        go_modules_repository(**kwargs)
    if cfg.prebuilt:
        relkit_prebuilt_repositories(**cfg.prebuilt)

go_release = module_extension(
    implementation = _go_release_impl,
    doc = "Declares the Go SDK, Go module caches and the prebuilt relkit the rules use.",
    tag_classes = {
        "sdk": tag_class(
            doc = "Pins the Go SDK (default: the version relkit pins, downloaded from the module proxy).",
            attrs = {
                "version": attr.string(default = GO_VERSION, doc = "Go version, e.g. '1.26.8'."),
                "sha256s": attr.string_dict(
                    doc = "For a version relkit does not pin: the sha256 of its golang.org/toolchain module zip per host ('linux-amd64').",
                ),
                "host": attr.bool(doc = "Use the host's Go SDK instead (explicit opt-in)."),
                "compile_helper": attr.bool(
                    doc = "Compile relkit's action helper with the SDK instead of running the prebuilt relkit; for building relkit itself from source.",
                ),
            },
        ),
        "modules": tag_class(
            doc = "A Go module cache for go_release_binary(modules = '@<name>//:modules').",
            attrs = {
                "name": attr.string(mandatory = True, doc = "Repository name."),
                "go_mod": attr.label(mandatory = True, doc = "The go.mod file."),
                "go_sum": attr.label(mandatory = True, doc = "Its go.sum."),
            },
        ),
        "relkit": tag_class(
            doc = "The released relkit binary the relkit toolchain uses (repository 'relkit_prebuilt').",
            attrs = {
                "version": attr.string(mandatory = True, doc = "relkit release tag."),
                "sha256s": attr.string_dict(doc = "sha256 per host; default: the table pinned in relkit."),
                "url_template": attr.string(doc = "Download URL with {version}, {platform} and {ext}, e.g. a mirror; default: GitHub releases."),
            },
        ),
    },
)
