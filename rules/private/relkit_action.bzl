"""Actions that run the relkit CLI, shared by the rules that package a release."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load(":providers.bzl", "GoSdkInfo", "ReleaseStampInfo")

RELKIT_TOOLCHAIN = str(Label("//rules/toolchains:relkit_toolchain_type"))

# The private attributes relkit_args and run_relkit read.
RELKIT_ACTION_ATTRS = {
    "_sdk": attr.label(default = "@relkit_go_sdk//:sdk", providers = [GoSdkInfo], cfg = "exec"),
    "_stamp": attr.label(default = "//rules/private:stamp", providers = [ReleaseStampInfo]),
    "_tag": attr.label(default = "//release:tag"),
}

def relkit_args(ctx, verb, touch = None, stamps = []):
    """Starts the arguments of an action running `relkit VERB`.

    They go through the action helper, which substitutes {STABLE_*} stamp
    references and expands the param file, so that long lists never hit the
    command-line limit.

    Args:
      ctx: a rule context with RELKIT_ACTION_ATTRS and the relkit toolchain.
      verb: the relkit verb, e.g. "archive" or "manifest build".
      touch: optional File created once relkit succeeds.
      stamps: more stamp files whose keys the arguments may reference, besides
        the release stamp; list them in the action's inputs too.
    Returns:
      An Args object; add the verb's flags to it.
    """
    args = ctx.actions.args()
    args.use_param_file("--params=%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("run")
    args.add("--stamp", ctx.attr._stamp[ReleaseStampInfo].file)
    args.add_all(stamps, before_each = "--stamp")
    if touch:
        args.add("--touch", touch)
    args.add(ctx.toolchains[RELKIT_TOOLCHAIN].relkit.binary)
    args.add_all(verb.split(" "))
    return args

def run_relkit(ctx, verb, mnemonic, args, inputs, outputs, host_tools = False):
    """Declares the action for arguments started by relkit_args.

    Args:
      ctx: the rule context given to relkit_args.
      verb: the relkit verb, for the progress message.
      mnemonic: the action mnemonic, Relkit<Verb>.
      args: the Args from relkit_args.
      inputs: list of File the verb reads.
      outputs: list of File the verb writes; the first names the progress message.
      host_tools: whether the verb runs tools from the host's PATH (wixl); the
        action then gets Bazel's default shell environment, which
        --incompatible_strict_action_env pins to /bin:/usr/bin:/usr/local/bin.
    """
    relkit = ctx.toolchains[RELKIT_TOOLCHAIN].relkit
    sdk = ctx.attr._sdk[GoSdkInfo]
    ctx.actions.run(
        executable = sdk.builder,
        arguments = sdk.builder_args + [args],
        inputs = depset(inputs + [ctx.attr._stamp[ReleaseStampInfo].file]),
        outputs = outputs,
        tools = [relkit.binary],
        mnemonic = mnemonic,
        progress_message = "Relkit %s %s" % (verb, outputs[0].short_path),
        use_default_shell_env = host_tools,
    )

def release_tag(ctx):
    """Returns (tag, version) from --@relkit//release:tag, or fails naming the flag.

    Args:
      ctx: a rule context with RELKIT_ACTION_ATTRS.
    Returns:
      The tag, e.g. "v1.2.3", and the version, "1.2.3".
    """
    tag = ctx.attr._tag[BuildSettingInfo].value
    if not tag or "/" in tag or tag.startswith("."):
        fail("tag (--@relkit//release:tag): %r cannot name release files; want a semver tag like v1.2.3" % tag)
    return tag, (tag[1:] if tag.startswith("v") else tag)
