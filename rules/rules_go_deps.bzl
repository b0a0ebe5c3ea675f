"""rules_go and gazelle for Bazel 4.2 WORKSPACE builds, from the Go module proxy.

Bazel 7/8 users take current rules_go and gazelle from the Bazel Central
Registry in MODULE.bazel instead (see the README). On Bazel 4.2 the newest
rules_go that loads is v0.33.0, with gazelle v0.26.0; both predate Go 1.20, so
relkit fetches them as Go modules, checks their h1: sums and applies its
patches (rules/patches, each explaining itself):

    load("@relkit//rules:rules_go_deps.bzl", "relkit_rules_go_repositories")
    relkit_rules_go_repositories()

    load("@io_bazel_rules_go//go:deps.bzl", "go_rules_dependencies", "go_wrap_sdk")
    load("@bazel_gazelle//:deps.bzl", "gazelle_dependencies")

    # rules_go builds with relkit's pinned Go SDK.
    go_wrap_sdk(name = "go_sdk", root_file = "@relkit_go_sdk//:sdk/VERSION")

    # gazelle's go_repository pins win over rules_go's: call it first.
    gazelle_dependencies(go_env = {"GOPROXY": "https://proxy.golang.org"})
    go_rules_dependencies()

relkit_dependencies() must come first: the fetches use its Go SDK.
"""

load("//rules/private:go_module_repo.bzl", "go_module_repository")

RULES_GO_VERSION = "v0.33.0"
GAZELLE_VERSION = "v0.26.0"

# A WORKSPACE macro: it declares repositories, not targets, so it takes no name.
# buildifier: disable=unnamed-macro
def relkit_rules_go_repositories():
    """Declares @io_bazel_rules_go and @bazel_gazelle, patched for Go 1.26.

    Also registers stand-in C++ toolchains for the release platforms, which
    rules_go v0.33.0 resolves even for pure builds (see
    rules/rules_go_bazel4/BUILD.bazel).
    """
    native.register_toolchains(str(Label("//rules/rules_go_bazel4:all")))
    if not native.existing_rule("io_bazel_rules_go"):
        go_module_repository(
            name = "io_bazel_rules_go",
            path = "github.com/bazelbuild/rules_go",
            version = RULES_GO_VERSION,
            sum = "h1:WW9CHmFxbE+Lm4qiLOFAPogmiAUzZtvQsWxUcm4wwaU=",
            patches = [Label("//rules/patches:rules_go-v0.33.0-go1.26.patch")],
        )
    if not native.existing_rule("bazel_gazelle"):
        go_module_repository(
            name = "bazel_gazelle",
            path = "github.com/bazelbuild/bazel-gazelle",
            version = GAZELLE_VERSION,
            sum = "h1:/gh8S450+nfr3wYI6bTYEi297obbVcMObavhPuB7LVo=",
            patches = [Label("//rules/patches:gazelle-v0.26.0-bazel4.patch")],
            vendor = True,
        )
