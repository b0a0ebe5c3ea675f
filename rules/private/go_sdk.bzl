"""Rules the Go SDK and module repositories instantiate."""

load(":providers.bzl", "GoModuleCacheInfo", "GoSdkInfo")

def _go_sdk_impl(ctx):
    files = depset([ctx.file.go, ctx.file.builder] + ctx.files.srcs)
    return [
        GoSdkInfo(
            go = ctx.file.go,
            builder = ctx.file.builder,
            builder_args = ctx.attr.builder_args,
            files = files,
            version = ctx.attr.version,
        ),
        DefaultInfo(files = files),
    ]

go_sdk = rule(
    implementation = _go_sdk_impl,
    doc = "Describes a Go SDK for go_release_binary. Created by go_sdk_repository.",
    attrs = {
        "go": attr.label(mandatory = True, allow_single_file = True, doc = "The go binary."),
        "builder": attr.label(mandatory = True, allow_single_file = True, doc = "relkit's action helper."),
        "builder_args": attr.string_list(doc = "Arguments before the helper's own, e.g. [\"action-helper\"] for a relkit binary."),
        "srcs": attr.label_list(allow_files = True, doc = "SDK files that key the actions (VERSION, tools)."),
        "version": attr.string(mandatory = True, doc = "Go version, e.g. '1.26.8'."),
    },
    provides = [GoSdkInfo],
)

def _go_module_cache_impl(ctx):
    return [
        GoModuleCacheInfo(marker = ctx.file.marker),
        DefaultInfo(files = depset([ctx.file.marker])),
    ]

go_module_cache = rule(
    implementation = _go_module_cache_impl,
    doc = "Describes a Go module cache. Created by go_modules_repository.",
    attrs = {
        "marker": attr.label(mandatory = True, allow_single_file = True, doc = "go.sum at the cache root."),
    },
    provides = [GoModuleCacheInfo],
)
