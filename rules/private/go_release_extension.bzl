"""What the go_release module extension declares, read from its tags.

Kept apart from //rules:extensions.bzl, which only Bazel 7/8 can load, so that
Bazel 4 can test it.
"""

load(":repositories.bzl", "relkit_prebuilt_binary")
load(":versions.bzl", "GO_VERSION")

_PREBUILT = "relkit_prebuilt"

def go_release_config(modules):
    """Reads the go_release tags of every module into the repositories to declare.

    Args:
      modules: module_ctx.modules, the root module first: its choices win.
    Returns:
      A struct of keyword arguments: sdk (go_sdk_repository), modules (a list,
      go_modules_repository), prebuilt (relkit_prebuilt_repositories, or None).
    """
    sdk = None
    prebuilt = None
    go_modules = []
    for mod in modules:
        for tag in mod.tags.sdk:
            sdk = sdk or tag
        for tag in mod.tags.relkit:
            prebuilt = prebuilt or tag
        for tag in mod.tags.modules:
            go_modules.append({"name": tag.name, "go_mod": tag.go_mod, "go_sum": tag.go_sum})
    prebuilt_kwargs = None
    if prebuilt:
        prebuilt_kwargs = {
            "name": _PREBUILT,
            "version": prebuilt.version,
            "sha256s": prebuilt.sha256s,
            # Empty when not given: relkit_prebuilt_repositories' default then.
            "url_template": prebuilt.url_template,
        }
    return struct(
        sdk = {
            "name": "relkit_go_sdk",
            "version": sdk.version if sdk else GO_VERSION,
            "sha256s": sdk.sha256s if sdk else {},
            "host": sdk.host if sdk else False,
            # The prebuilt relkit sets up the SDK and runs the build actions,
            # unless relkit is built from source. The label resolves through
            # relkit's MODULE.bazel, which imports the binary's repository.
            "helper": relkit_prebuilt_binary(_PREBUILT) if prebuilt and not (sdk and sdk.compile_helper) else None,
        },
        modules = go_modules,
        prebuilt = prebuilt_kwargs,
    )
