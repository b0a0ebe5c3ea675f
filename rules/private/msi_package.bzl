"""msi_package: a reproducible Windows installer of a connector, built on Linux."""

load(":platforms.bzl", "platform_label")
load(":providers.bzl", "GoReleaseBinaryInfo", "MsiInfo")
load(":relkit_action.bzl", "RELKIT_ACTION_ATTRS", "RELKIT_TOOLCHAIN", "release_tag", "relkit_args", "run_relkit")

_DOC = """Builds `<connector_name>_<TAG>_windows_<arch>.msi` with `relkit msi build`.

`binary` is built for windows/`arch` through a transition, whatever the
command-line platform. The installer is byte-identical for the same inputs:
the tag comes from `--@relkit//release:tag` and every stored time is the
commit time from Bazel stamping (a fixed placeholder without `--stamp`), as
for connector_release.

wixl and msitools are taken from the host (`scripts/install-msi-tools.sh`
installs them on Debian); when they are missing the action fails saying so.
Their versions, recorded by the `@relkit_msitools` repository, are an input
of the action: after an msitools upgrade the installers are rebuilt, never
taken from a cache filled by the old version.
The name is the one `relkit manifest build` looks for, so passing the target
to `connector_release(msi = [...])` adds the `windows-<arch>-msi` asset.

Example:

    msi_package(
        name = "msi_amd64",
        binary = ":baton-example",
        arch = "amd64",
        connector_name = "baton-example",
        vendor = "ConductorOne",
    )
"""

_ARCHES = ["amd64", "arm64"]

def _windows_transition_impl(settings, attr):
    # An unsupported arch keeps the current platform; the rule reports it.
    if attr.arch not in _ARCHES:
        return {"//command_line_option:platforms": settings["//command_line_option:platforms"]}
    return {"//command_line_option:platforms": platform_label("windows/" + attr.arch)}

_windows_transition = transition(
    implementation = _windows_transition_impl,
    inputs = ["//command_line_option:platforms"],
    outputs = ["//command_line_option:platforms"],
)

def _msi_package_impl(ctx):
    arch = ctx.attr.arch
    if arch not in _ARCHES:
        fail("arch: %r is not supported; want amd64 or arm64" % arch)
    tag, _ = release_tag(ctx)

    # A 1:1 transition still gives a list in Bazel 4.
    target = ctx.attr.binary[0]
    exe = target[DefaultInfo].files_to_run.executable
    if not exe or exe.is_source:
        fail("binary: %s is not executable; want a go_release_binary or go_binary target" % target.label)
    if GoReleaseBinaryInfo in target:
        built = target[GoReleaseBinaryInfo]
        if (built.goos, built.goarch) != ("windows", arch):
            fail("binary: %s was built for %s/%s, not windows/%s" % (target.label, built.goos, built.goarch, arch))

    name = ctx.attr.connector_name
    out = ctx.actions.declare_file("%s/%s_%s_windows_%s.msi" % (ctx.label.name, name, tag, arch))
    args = relkit_args(ctx, "msi build")
    args.add("--binary", exe)
    args.add("--name", name)
    args.add("--vendor", ctx.attr.vendor)
    args.add("--tag", tag)
    args.add("--arch", arch)
    args.add("--template", ctx.file.template)
    args.add("--epoch", "{STABLE_COMMIT_EPOCH}")
    for flag, value in [
        ("--binary-name", ctx.attr.binary_name),
        ("--service-name", ctx.attr.service_name),
        ("--service-display-name", ctx.attr.service_display_name),
        ("--service-description", ctx.attr.service_description),
        ("--service-args", ctx.attr.service_args),
    ]:
        if value:
            args.add(flag, value)
    args.add("--out", out)

    # The host's msitools version is an input: Bazel cannot see wixl itself.
    run_relkit(ctx, "msi build", "RelkitMsiBuild", args, [exe, ctx.file.template, ctx.file._msitools], [out], host_tools = True)

    return [
        DefaultInfo(files = depset([out])),
        MsiInfo(
            msi = out,
            arch = arch,
            connector = name,
            vendor = ctx.attr.vendor,
            binary_name = ctx.attr.binary_name,
            template = ctx.file.template,
            service = {k: getattr(ctx.attr, k) for k in ["service_name", "service_display_name", "service_description", "service_args"]},
        ),
    ]

msi_package = rule(
    implementation = _msi_package_impl,
    doc = _DOC,
    attrs = dict(RELKIT_ACTION_ATTRS, **{
        "binary": attr.label(
            mandatory = True,
            cfg = _windows_transition,
            doc = "The connector's executable Go target, built here for windows/`arch`.",
        ),
        "arch": attr.string(default = "amd64", values = _ARCHES, doc = "Windows architecture: amd64 or arm64."),
        "connector_name": attr.string(
            mandatory = True,
            doc = "Connector name (relkit's --name): ProductName, install folder, upgrade identity and file name; the repo of connector_release.",
        ),
        "vendor": attr.string(mandatory = True, doc = "Manufacturer, and the folder under Program Files."),
        "binary_name": attr.string(doc = "Installed executable name without .exe; default: connector_name."),
        "template": attr.label(
            default = "//templates/msi:default.wxs",
            allow_single_file = [".wxs"],
            doc = "WiX v3 template; //templates/msi:service.wxs also installs a Windows service. templates/msi/default.wxs documents the variables.",
        ),
        "service_name": attr.string(doc = "Service key name (service template); default: connector_name."),
        "service_display_name": attr.string(doc = "Service name shown in services.msc; default: connector_name."),
        "service_description": attr.string(doc = "Service description; default: '<connector_name> service'."),
        "service_args": attr.string(doc = "Service command line arguments, e.g. 'service run'."),
        "_msitools": attr.label(default = "@relkit_msitools//:version.txt", allow_single_file = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    }),
    toolchains = [RELKIT_TOOLCHAIN],
    provides = [MsiInfo],
)
