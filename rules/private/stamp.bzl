"""The release stamp: commit and commit time, from Bazel stamping."""

load(":providers.bzl", "GoSdkInfo", "ReleaseStampInfo")

# Keys a --workspace_status_command must print for stamped release builds.
STAMP_KEYS = ["STABLE_COMMIT_DATE", "STABLE_COMMIT_EPOCH", "STABLE_GIT_COMMIT"]

# Keys naming the release workflow at its exact commit, printed by the
# reusable workflow's status command; provenance records them as builder.id.
# They live in a stamp file of their own, read only by the provenance action,
# so a new workflow commit reruns nothing else. Local builds print none of
# them: each is then empty and the builder is relkit's local builder.
WORKFLOW_STAMP_KEYS = ["STABLE_WORKFLOW_PATH", "STABLE_WORKFLOW_REF", "STABLE_WORKFLOW_REPOSITORY"]

# Used without --stamp: obviously not a real commit, and a time every archive
# format can store (zip cannot go before 1980).
UNSTAMPED = {
    "STABLE_COMMIT_DATE": "1980-01-01T00:00:00Z",
    "STABLE_COMMIT_EPOCH": "315532800",
    "STABLE_GIT_COMMIT": "0000000000000000000000000000000000000000",
}

def _release_stamp_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    keys = WORKFLOW_STAMP_KEYS if ctx.attr.workflow else STAMP_KEYS
    if ctx.attr.stamp:
        sdk = ctx.attr._sdk[GoSdkInfo]
        args = ctx.actions.args()
        args.add("stamp")
        args.add("--status", ctx.info_file)
        args.add("--out", out)
        if ctx.attr.workflow:
            args.add("--optional")
        args.add_all(keys)
        ctx.actions.run(
            executable = sdk.builder,
            arguments = sdk.builder_args + [args],
            inputs = [ctx.info_file],
            outputs = [out],
            mnemonic = "RelkitStamp",
            progress_message = "Relkit stamp %{label}",
        )
    else:
        ctx.actions.write(out, "".join(["%s %s\n" % (k, UNSTAMPED.get(k, "")) for k in keys]))
    return [
        ReleaseStampInfo(file = out, stamped = ctx.attr.stamp),
        DefaultInfo(files = depset([out])),
    ]

release_stamp = rule(
    implementation = _release_stamp_impl,
    doc = """Extracts the release keys from Bazel's stable status into a small file.

With --stamp, the values come from the --workspace_status_command, which must
print STABLE_GIT_COMMIT, STABLE_COMMIT_EPOCH and STABLE_COMMIT_DATE (the commit
time, never the wall clock). The file holds nothing else, so actions reading it
are still remote-cache hits on other machines. Without --stamp it holds fixed
placeholder values.

With workflow = True it keeps STABLE_WORKFLOW_REPOSITORY, STABLE_WORKFLOW_REF
(the workflow's commit) and STABLE_WORKFLOW_PATH instead, each empty when the
status command does not print it.""",
    attrs = {
        "stamp": attr.bool(mandatory = True, doc = "Whether --stamp is on; set with a select()."),
        "workflow": attr.bool(doc = "Keep the optional release workflow keys instead of the commit keys."),
        "_sdk": attr.label(default = "@relkit_go_sdk//:sdk", providers = [GoSdkInfo], cfg = "exec"),
    },
    provides = [ReleaseStampInfo],
)
