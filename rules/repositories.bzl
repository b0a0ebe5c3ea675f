"""WORKSPACE setup of the relkit rules (Bazel 4.2+; bzlmod users see rules/extensions.bzl).

    load("@relkit//rules:repositories.bzl", "go_modules", "relkit_dependencies", "relkit_prebuilt")
    relkit_dependencies(prebuilt_relkit = "relkit_bin")
    relkit_prebuilt(name = "relkit_bin", version = "v1.0.0")
    register_toolchains("@relkit_bin//:toolchain")
    go_modules(name = "my_go_modules", go_mod = "//:go.mod", go_sum = "//:go.sum")

Where relkit is built from source instead, call relkit_dependencies() and
register "@relkit//rules/toolchains:from_source".
"""

load(
    "//rules/private:repositories.bzl",
    "go_modules_repository",
    "go_sdk_repository",
    "msitools_repository",
    "relkit_prebuilt_binary",
    "relkit_prebuilt_repositories",
)
load("//rules/private:versions.bzl", "GO_VERSION")

def relkit_dependencies(go_sdk_host = False, prebuilt_relkit = None, go_version = GO_VERSION, go_sha256s = {}):
    """Declares the Go SDK, the modules relkit itself is built from, and the host's msitools version.

    Args:
      go_sdk_host: use the host's Go SDK instead of the pinned download
        (explicit opt-in; the host Go must be go_version).
      prebuilt_relkit: name of a relkit_prebuilt repository, e.g. "relkit_bin":
        its relkit unpacks the Go SDK and runs the build actions, which saves
        extracting the whole SDK and compiling relkit's action helper on every
        fresh machine. Default: both, as needed where relkit itself is built
        from source.
      go_version: the Go release to build with, e.g. "1.26.9"; default: the
        one relkit pins.
      go_sha256s: for another go_version, the sha256 of its
        golang.org/toolchain module zip per host ("linux-amd64"), from
        https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go<version>.<host>.zip.
    """
    if not native.existing_rule("relkit_go_sdk"):
        go_sdk_repository(
            name = "relkit_go_sdk",
            version = go_version,
            sha256s = go_sha256s,
            host = go_sdk_host,
            helper = relkit_prebuilt_binary(prebuilt_relkit) if prebuilt_relkit else None,
        )
    if not native.existing_rule("relkit_msitools"):
        msitools_repository(name = "relkit_msitools")
    if not native.existing_rule("relkit_go_modules"):
        # Fetched only when relkit is built from source.
        go_modules_repository(
            name = "relkit_go_modules",
            go_mod = "@relkit//:go.mod",
            go_sum = "@relkit//:go.sum",
        )

def go_modules(name, go_mod, go_sum):
    """Declares a Go module cache for a go.mod, checked against its go.sum.

    Args:
      name: repository name; use "@<name>//:modules" as go_release_binary's modules.
      go_mod: label of go.mod.
      go_sum: label of go.sum.
    """
    go_modules_repository(name = name, go_mod = go_mod, go_sum = go_sum)

def relkit_prebuilt(name, version, sha256s = {}, url_template = None):
    """Declares a released relkit binary; register "@<name>//:toolchain".

    Pass its name to relkit_dependencies(prebuilt_relkit = ...) too, so that
    it sets up the Go SDK and runs the build actions.

    Args:
      name: repository name.
      version: relkit release tag, e.g. "v1.0.0".
      sha256s: sha256 per host ("linux-amd64"); default: the table pinned in relkit.
      url_template: download URL with {version}, {platform} and {ext}; default: GitHub releases.
    """
    relkit_prebuilt_repositories(name = name, version = version, sha256s = sha256s, url_template = url_template)
