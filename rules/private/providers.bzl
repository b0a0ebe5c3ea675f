"""Providers of the relkit rules. Public ones are re-exported by //rules:defs.bzl."""

GoSdkInfo = provider(
    doc = "A Go SDK and the action helper that runs build actions with it.",
    fields = {
        "go": "File: the go binary.",
        "builder": "File: relkit's action helper: rules/private/builder, or a prebuilt relkit.",
        "builder_args": "list of string: arguments before the helper's own ([\"action-helper\"] for relkit).",
        "files": "depset of File: what actions using the SDK depend on.",
        "version": "string: the Go version, e.g. '1.26.8'.",
    },
)

GoModuleCacheInfo = provider(
    doc = "A Go module cache filled from go.mod and checked against go.sum.",
    fields = {
        "marker": "File: go.sum of the cache; its path locates the cache and its content keys the actions.",
    },
)

ReleaseStampInfo = provider(
    doc = "Release identity values known only at execution (from Bazel stamping).",
    fields = {
        "file": "File: 'KEY VALUE' lines for STABLE_GIT_COMMIT, STABLE_COMMIT_EPOCH and STABLE_COMMIT_DATE.",
        "stamped": "bool: whether the values come from --stamp; otherwise they are fixed placeholders.",
    },
)

GoReleaseBinaryInfo = provider(
    doc = "A binary built by go_release_binary, and how to rebuild it outside Bazel.",
    fields = {
        "binary": "File: the executable.",
        "goos": "string: target GOOS.",
        "goarch": "string: target GOARCH.",
        "go_version": "string: the Go version it was built with.",
        "package": "string: the main package, relative to the module root.",
    },
)

RelkitInfo = provider(
    doc = "The relkit CLI, as provided by a relkit toolchain.",
    fields = {
        "binary": "File: the relkit executable.",
        "version": "string: relkit's version, or 'source' when built from this checkout.",
    },
)

ConnectorReleaseInfo = provider(
    doc = "The unsigned release tree of one connector, as produced by connector_release.",
    fields = {
        "org": "string: GitHub owner of the connector.",
        "repo": "string: connector repository and binary name.",
        "tag": "string: release tag, e.g. 'v1.2.3'.",
        "version": "string: the tag without its 'v'.",
        "platforms": "list of string: 'os/arch' pairs, sorted.",
        "tree": "File (directory): the release tree, holding every file below under its base name.",
        "archives": "dict: 'os-arch' key -> File archive.",
        "msis": "dict: 'amd64'/'arm64' -> File Windows installer (from the msi attribute).",
        "images": "File (directory) or None: relkit image build's output (image/, lambda/, images.json), in the tree as images/.",
        "sboms": "dict: archive basename -> File SPDX JSON SBOM.",
        "provenance": "File: the unsigned in-toto SLSA provenance statement covering every archive, installer and the checksums file.",
        "checksums": "File: R_VER_checksums.txt.",
        "manifest": "File: manifest.json, unsigned.",
        "index": "File: index.json, the machine-readable list the publish step reads.",
        "registry": "dict: path in the tree ('registry/connector.mdx', ...) -> File of the registry metadata.",
        "validation": "File: written once relkit has validated the release inputs.",
        "files": "depset of File: the tree's files one by one (registry files are the sources).",
    },
)

MsiInfo = provider(
    doc = "A Windows installer built by msi_package.",
    fields = {
        "msi": "File: the installer, named CONNECTOR_TAG_windows_ARCH.msi as relkit manifest build expects.",
        "arch": "string: 'amd64' or 'arm64'.",
        "connector": "string: the connector name the installer was built for.",
        "vendor": "string: the Manufacturer.",
        "binary_name": "string: the installed executable's name without .exe; empty for the connector name.",
        "template": "File: the WiX template it was built from.",
        "service": "dict: service_name, service_display_name, service_description, service_args as given (empty when not).",
    },
)

OciImageInfo = provider(
    doc = "OCI image layouts built by oci_image_attested.",
    fields = {
        "dir": "File (directory): the output of relkit image build: image/, lambda/ (optional) and images.json.",
        "name": "string: the binary name, stored at /NAME in the images.",
        "lambda_image": "bool: whether dir holds the Lambda image.",
    },
)
