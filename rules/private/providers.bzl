"""Providers of the relkit rules. Public ones are re-exported by //rules:defs.bzl."""

GoSdkInfo = provider(
    doc = "A Go SDK and the action helper built with it.",
    fields = {
        "go": "File: the go binary.",
        "builder": "File: relkit's action helper (rules/private/builder).",
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
        "sboms": "dict: archive basename -> File SPDX JSON SBOM.",
        "provenance": "File: the unsigned in-toto SLSA provenance statement covering every archive.",
        "checksums": "File: R_VER_checksums.txt.",
        "manifest": "File: manifest.json, unsigned.",
        "index": "File: index.json, the machine-readable list the publish step reads.",
        "validation": "File: written once relkit has validated the release inputs.",
        "files": "depset of File: the tree's files one by one (registry files are the sources).",
    },
)
