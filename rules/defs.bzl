"""Public API of the relkit Bazel rules.

    load("@relkit//rules:defs.bzl", "connector_publish", "connector_release", "go_release_binary", "msi_package", "oci_image_attested")

Everything defined outside this file is private and may change without notice.
"""

load("//rules/private:connector_publish.bzl", _connector_publish = "connector_publish")
load("//rules/private:connector_release.bzl", "connector_release_rule")
load("//rules/private:go_release_binary.bzl", _go_release_binary = "go_release_binary")
load("//rules/private:msi_package.bzl", _msi_package = "msi_package")
load("//rules/private:oci_image.bzl", _oci_image_attested = "oci_image_attested")
load("//rules/private:platforms.bzl", "PLATFORMS", "check_platforms")
load(
    "//rules/private:providers.bzl",
    _ConnectorReleaseInfo = "ConnectorReleaseInfo",
    _GoReleaseBinaryInfo = "GoReleaseBinaryInfo",
    _MsiInfo = "MsiInfo",
    _OciImageInfo = "OciImageInfo",
    _RelkitInfo = "RelkitInfo",
)
load("//rules/toolchains:relkit_toolchain.bzl", _relkit_toolchain = "relkit_toolchain")

ConnectorReleaseInfo = _ConnectorReleaseInfo
GoReleaseBinaryInfo = _GoReleaseBinaryInfo
MsiInfo = _MsiInfo
OciImageInfo = _OciImageInfo
RelkitInfo = _RelkitInfo
connector_publish = _connector_publish
go_release_binary = _go_release_binary
msi_package = _msi_package
oci_image_attested = _oci_image_attested
relkit_toolchain = _relkit_toolchain

# The platforms connector_release builds by default, as "goos/goarch".
DEFAULT_PLATFORMS = sorted(PLATFORMS.keys())

def _check_file(name, attr, value):
    """Fails at loading when a same-package file named by `attr` is missing."""
    if type(value) != "string" or ":" in value or value.startswith("@"):
        return  # a label: Bazel itself reports it if it does not exist
    if not native.glob([value], allow_empty = True):
        fail('connector_release(name = "%s"): %s: "%s" does not exist in package //%s' % (name, attr, value, native.package_name()))

def connector_release(name, platforms = None, **kwargs):
    """Builds a connector's unsigned release tree. See connector_release_rule for the attributes.

    Args:
      name: target name; the tree is written to <name>/.
      platforms: "goos/goarch" pairs to release; default DEFAULT_PLATFORMS.
      **kwargs: the attributes of connector_release_rule: binary, org, repo,
        docs, config_schema, capabilities, base_url, msi, image, ...
    """
    if platforms == None:
        platforms = DEFAULT_PLATFORMS
    if type(platforms) == "list":
        problem = check_platforms('connector_release(name = "%s"): platforms' % name, platforms)
        if problem:
            fail(problem)
    for attr in ["docs", "config_schema", "capabilities"]:
        _check_file(name, attr, kwargs.get(attr))
    connector_release_rule(name = name, platforms = platforms, **kwargs)
