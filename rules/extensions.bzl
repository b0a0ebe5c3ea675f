"""bzlmod setup of the relkit rules (Bazel 7/8).

    go_release = use_extension("@relkit//rules:extensions.bzl", "go_release")
    go_release.modules(name = "my_go_modules", go_mod = "//:go.mod", go_sum = "//:go.sum")
    use_repo(go_release, "my_go_modules")

The Go SDK (`relkit_go_sdk`), the host's msitools version (`relkit_msitools`)
and relkit's prebuilt binary are declared by
relkit's own MODULE.bazel; a root module may pin the SDK differently with
`go_release.sdk(version = ..., host = ...)`.
"""

load(
    "//rules/private:repositories.bzl",
    "go_modules_repository",
    "go_sdk_repository",
    "msitools_repository",
    "relkit_prebuilt_repository",
)
load("//rules/private:versions.bzl", "GO_VERSION")

def _go_release_impl(mctx):
    sdk = None
    prebuilt = None
    for mod in mctx.modules:
        # The root module comes first: its choices win.
        for tag in mod.tags.sdk:
            sdk = sdk or tag
        for tag in mod.tags.relkit:
            prebuilt = prebuilt or tag
        for tag in mod.tags.modules:
            go_modules_repository(name = tag.name, go_mod = tag.go_mod, go_sum = tag.go_sum)
    go_sdk_repository(
        name = "relkit_go_sdk",
        version = sdk.version if sdk else GO_VERSION,
        host = sdk.host if sdk else False,
    )
    msitools_repository(name = "relkit_msitools")
    if prebuilt:
        kwargs = {"url_template": prebuilt.url_template} if prebuilt.url_template else {}
        relkit_prebuilt_repository(name = "relkit_prebuilt", version = prebuilt.version, sha256s = prebuilt.sha256s, **kwargs)

go_release = module_extension(
    implementation = _go_release_impl,
    doc = "Declares the Go SDK, Go module caches and the prebuilt relkit the rules use.",
    tag_classes = {
        "sdk": tag_class(
            doc = "Pins the Go SDK (default: the version relkit pins, downloaded from the module proxy).",
            attrs = {
                "version": attr.string(default = GO_VERSION, doc = "Go version, e.g. '1.26.8'."),
                "host": attr.bool(doc = "Use the host's Go SDK instead (explicit opt-in)."),
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
