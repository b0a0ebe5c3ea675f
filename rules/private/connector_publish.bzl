"""connector_publish: `bazel run` publishes the tree connector_release built."""

load(":providers.bzl", "ConnectorReleaseInfo")
load(":relkit_action.bzl", "RELKIT_TOOLCHAIN")

_DOC = """A launcher: `bazel run //:publish -- [flags]` runs `relkit publish` on `release`'s tree.

It passes `--dir` (the tree in the launcher's runfiles), `--org`, `--repo`,
`--tag`, the registry files of the tree (`--docs`, `--config-schema`,
`--capabilities`) and `--config` when `config` is set. Everything else (bucket,
endpoints, signing, registry URL) comes from RELKIT_<FLAG> environment
variables, the config file, or flags after `--`, which are passed through and
win. Relative paths in them are relative to the directory `bazel run` was
started in.

Run it with the flags the release was built with (`--config=release` and the
tag), so that it publishes that build and does not rebuild another:

    bazel run --config=release --@relkit//release:tag=v1.2.3 //:publish -- \\
        --bucket relkit-dist --base-url https://dist.example.com

Example:

    connector_publish(
        name = "publish",
        release = ":release",
    )
"""

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

# Registry files of the tree and the relkit publish flag that sends each.
_REGISTRY_FLAGS = {
    "registry/baton_capabilities.json": "--capabilities",
    "registry/config_schema.json": "--config-schema",
    "registry/connector.mdx": "--docs",
}

def _connector_publish_impl(ctx):
    release = ctx.attr.release[ConnectorReleaseInfo]
    relkit = ctx.toolchains[RELKIT_TOOLCHAIN].relkit.binary

    # Paths are runfiles paths, made absolute before changing to the
    # directory `bazel run` was started in.
    args = [
        "--dir",
        '"$r"/' + _shell_quote(release.tree.short_path),
        "--org",
        _shell_quote(release.org),
        "--repo",
        _shell_quote(release.repo),
        "--tag",
        _shell_quote(release.tag),
    ]
    for path in sorted(release.registry.keys()):
        if path in _REGISTRY_FLAGS:
            args += [_REGISTRY_FLAGS[path], '"$r"/%s' % _shell_quote(release.tree.short_path + "/" + path)]
    runfiles = [release.tree, relkit]
    if ctx.file.config:
        args += ["--config", '"$r"/' + _shell_quote(ctx.file.config.short_path)]
        runfiles.append(ctx.file.config)

    launcher = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(launcher, is_executable = True, content = """#!/usr/bin/env bash
# relkit publish of {label}, written by connector_publish.
set -euo pipefail
self=$0
case $self in /*) ;; *) self=$PWD/$self ;; esac
r=${{RUNFILES_DIR:-$self.runfiles}}/{workspace}
[ -d "$r" ] || r=$PWD
cd "${{BUILD_WORKING_DIRECTORY:-.}}"
exec "$r"/{relkit} publish {args} "$@"
""".format(
        label = ctx.attr.release.label,
        workspace = ctx.workspace_name,
        relkit = _shell_quote(relkit.short_path),
        args = " ".join(args),
    ))
    return [DefaultInfo(
        executable = launcher,
        runfiles = ctx.runfiles(files = runfiles),
    )]

connector_publish = rule(
    implementation = _connector_publish_impl,
    doc = _DOC,
    executable = True,
    attrs = {
        "release": attr.label(
            mandatory = True,
            providers = [ConnectorReleaseInfo],
            doc = "The connector_release target whose tree is published.",
        ),
        "config": attr.label(
            allow_single_file = True,
            doc = "Optional relkit publish --config file ('flag-name = value' lines): bucket, endpoints, signing.",
        ),
    },
    toolchains = [RELKIT_TOOLCHAIN],
)
