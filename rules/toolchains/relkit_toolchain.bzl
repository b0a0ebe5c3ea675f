"""The relkit toolchain: how rules reach the relkit CLI."""

load("//rules/private:providers.bzl", "RelkitInfo")

def _relkit_toolchain_impl(ctx):
    info = RelkitInfo(binary = ctx.executable.relkit, version = ctx.attr.version)
    return [
        platform_common.ToolchainInfo(relkit = info),
        platform_common.TemplateVariableInfo({"RELKIT_BIN": ctx.executable.relkit.path}),
        DefaultInfo(files = depset([ctx.executable.relkit])),
    ]

relkit_toolchain = rule(
    implementation = _relkit_toolchain_impl,
    doc = """Declares a relkit binary as a toolchain of type //rules/toolchains:relkit_toolchain_type.

This repository registers one built from source (`//rules/toolchains:from_source`);
other repositories use a released binary through relkit_prebuilt_repositories.""",
    attrs = {
        "relkit": attr.label(
            mandatory = True,
            executable = True,
            allow_single_file = True,
            cfg = "exec",
            doc = "The relkit executable, built for the execution platform.",
        ),
        "version": attr.string(mandatory = True, doc = "relkit version, or 'source'."),
    },
    provides = [platform_common.ToolchainInfo],
)
