"""oci_image_attested: reproducible multi-arch and Lambda images as OCI layouts."""

load(":connector_release.bzl", "platforms_transition")
load(":platforms.bzl", "check_platforms", "platform_label")
load(":providers.bzl", "GoReleaseBinaryInfo", "OciImageInfo")
load(":relkit_action.bzl", "RELKIT_ACTION_ATTRS", "RELKIT_TOOLCHAIN", "release_tag", "relkit_args", "run_relkit")

_DOC = """Builds a connector's container images with `relkit image build`, without a container engine.

The output is one directory, `<name>/`: `image/`, an OCI layout holding a
multi-platform index with an image per Linux platform of `platforms`
(`binary` built for each through the same transition as connector_release,
so they are the archives' binaries), `lambda/` when `lambda_binary` is set
(a linux/arm64 image with Docker media types, as AWS Lambda requires) with
`lambda.sbom.json`, the SPDX SBOM of its binary (a build of its own; the
index's binaries are the archives', whose SBOMs serve), and `images.json`
with their digests. `connector_release(image = ...)` copies it
into the release tree under `images/`; publishing pushes it with
`relkit image push` and attests the digests.

The images are reproducible: the tag comes from `--@relkit//release:tag`,
the creation time and revision label from Bazel stamping (the commit time
and commit; placeholders without `--stamp`). The default base is relkit's:
`ca_certs` as /etc/ssl/certs/ca-certificates.crt, root and nonroot users,
/tmp, user 65532:65532, no shell.

Example:

    go_release_binary(
        name = "baton-example-lambda",
        gotags = ["baton_lambda_support"],
        ...
    )

    oci_image_attested(
        name = "image",
        binary = ":baton-example",
        connector_name = "baton-example",
        lambda_binary = ":baton-example-lambda",
        source = "https://github.com/ConductorOne/baton-example",
    )
"""

_LINUX = ["linux/amd64", "linux/arm64"]

def _linux_arm64_transition_impl(_settings, _attr):
    return {"//command_line_option:platforms": platform_label("linux/arm64")}

_linux_arm64_transition = transition(
    implementation = _linux_arm64_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

def _executable(target, goos, goarch, attr_name):
    exe = target[DefaultInfo].files_to_run.executable
    if not exe or exe.is_source:
        fail("%s: %s is not executable; want a go_release_binary or go_binary target" % (attr_name, target.label))
    if GoReleaseBinaryInfo in target:
        built = target[GoReleaseBinaryInfo]
        if (built.goos, built.goarch) != (goos, goarch):
            fail("%s: %s was built for %s/%s, not %s/%s" % (attr_name, target.label, built.goos, built.goarch, goos, goarch))
    return exe

def _pinned(attr_name, target, digest):
    """Returns the --base value PATH@sha256:HEX of a base image attribute."""
    if not digest.startswith("sha256:") or len(digest) != 71:
        fail("%s_digest: %r: want the sha256:<64 hex> digest of the base's index or manifest" % (attr_name, digest))
    files = target.files.to_list()
    if len(files) != 1:
        fail("%s: %s must be one OCI layout directory or image tarball" % (attr_name, target.label))
    return files[0], "%s@%s" % (files[0].path, digest)

def _oci_image_attested_impl(ctx):
    tag, _ = release_tag(ctx)
    for p in ctx.attr.platforms:
        if p not in _LINUX:
            fail("platforms: %r is not supported; images are built for %s" % (p, ", ".join(_LINUX)))
    problem = check_platforms("platforms", ctx.attr.platforms)
    if problem:
        fail(problem)
    if not ctx.attr.binary and not ctx.attr.lambda_binary:
        fail("binary: set binary, lambda_binary or both")

    out = ctx.actions.declare_directory(ctx.label.name)
    args = relkit_args(ctx, "image build")
    args.add("--name", ctx.attr.connector_name)
    args.add("--tag", tag)
    args.add("--created", "{STABLE_COMMIT_EPOCH}")
    args.add("--revision", "{STABLE_GIT_COMMIT}")
    inputs = []
    if ctx.attr.binary:
        for p in sorted(ctx.attr.platforms):
            goos, goarch = p.split("/")
            exe = _executable(ctx.split_attr.binary[p], goos, goarch, "binary")
            args.add("--binary", "%s=%s" % (p, exe.path))
            inputs.append(exe)
    if ctx.attr.lambda_binary:
        exe = _executable(ctx.attr.lambda_binary[0], "linux", "arm64", "lambda_binary")
        args.add("--lambda-binary", exe)
        inputs.append(exe)
    for attr_name in ["base", "lambda_base"]:
        target = getattr(ctx.attr, attr_name)
        if target:
            f, pinned = _pinned(attr_name, target, getattr(ctx.attr, attr_name + "_digest"))
            args.add("--" + attr_name.replace("_", "-"), pinned)
            inputs.append(f)
    if ctx.file.ca_certs:
        args.add("--ca-certs", ctx.file.ca_certs)
        inputs.append(ctx.file.ca_certs)
    for target, dest in ctx.attr.extra_files.items():
        files = target.files.to_list()
        if len(files) != 1:
            fail("extra_files: %s must be exactly one file" % target.label)
        args.add("--file", "%s=%s" % (files[0].path, dest))
        inputs.append(files[0])
    args.add_all(["%s=%s" % (k, v) for k, v in sorted(ctx.attr.env.items())], before_each = "--env")
    for flag, value in [
        ("--workdir", ctx.attr.workdir),
        ("--user", ctx.attr.user),
        ("--source", ctx.attr.source),
        ("--description", ctx.attr.description),
        ("--lambda-description", ctx.attr.lambda_description),
    ]:
        if value:
            args.add(flag, value)
    if ctx.attr.entrypoint:
        args.add("--entrypoint", json.encode(ctx.attr.entrypoint))
    args.add("--out", out.path)
    run_relkit(ctx, "image build", "RelkitImageBuild", args, inputs, [out])

    return [
        DefaultInfo(files = depset([out])),
        OciImageInfo(dir = out, name = ctx.attr.connector_name, lambda_image = bool(ctx.attr.lambda_binary)),
    ]

oci_image_attested = rule(
    implementation = _oci_image_attested_impl,
    doc = _DOC,
    attrs = dict(RELKIT_ACTION_ATTRS, **{
        "binary": attr.label(
            cfg = platforms_transition,
            doc = "The connector's executable Go target, built for each of `platforms`; stored at /<connector_name>.",
        ),
        "platforms": attr.string_list(
            default = _LINUX,
            doc = "Platforms of the multi-platform image, from: " + ", ".join(_LINUX) + ".",
        ),
        "lambda_binary": attr.label(
            cfg = _linux_arm64_transition,
            doc = "Executable built with the baton_lambda_support Go tag (go_release_binary gotags), built for linux/arm64: the Lambda image.",
        ),
        "connector_name": attr.string(mandatory = True, doc = "Binary name: stored at /NAME and run as the entrypoint."),
        "ca_certs": attr.label(
            default = "//third_party/ca-certificates:ca-certificates.crt",
            allow_single_file = True,
            doc = "PEM CA bundle of the default base, at /etc/ssl/certs/ca-certificates.crt; default: Debian 12's Mozilla bundle pinned in relkit (third_party/ca-certificates).",
        ),
        "base": attr.label(allow_files = True, doc = "Base image instead of the default: an OCI layout directory or image tarball; needs base_digest."),
        "base_digest": attr.string(doc = "sha256:<hex> digest of base's index or manifest, which pins it."),
        "lambda_base": attr.label(allow_files = True, doc = "Base of the Lambda image (default: the default base); needs lambda_base_digest."),
        "lambda_base_digest": attr.string(doc = "sha256:<hex> digest of lambda_base's index or manifest."),
        "extra_files": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Extra files in the images: file label -> absolute destination path, e.g. {':config.yaml': '/etc/baton/config.yaml'}.",
        ),
        "env": attr.string_dict(doc = "Environment of the images: KEY -> VALUE."),
        "workdir": attr.string(doc = "Working directory (default: the base's)."),
        "user": attr.string(doc = "USER[:GROUP] to run as (default: 65532:65532 with the default base, else the base's)."),
        "entrypoint": attr.string_list(doc = "Entrypoint (default: ['/NAME'], and ['/NAME', 'lambda'] for the Lambda image)."),
        "source": attr.string(doc = "Git URL for the org.opencontainers.image.source label."),
        "description": attr.string(doc = "Description label of the multi-platform image (relkit's default: 'ConductorOne Baton connector')."),
        "lambda_description": attr.string(doc = "Description label of the Lambda image (default: connector_name)."),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    }),
    toolchains = [RELKIT_TOOLCHAIN],
    provides = [OciImageInfo],
)
