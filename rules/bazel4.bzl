"""Stand-ins that let Bazel 4.2 build offline.

Bazel 4.2 fetches @rules_cc and @remote_coverage_tools from the internet even
for a plain sh_test. These local repositories take their place: @rules_cc
forwards to the native rules, and coverage is not supported.
"""

_RULES_CC_DEFS = """\
def cc_binary(**kwargs):
    native.cc_binary(**kwargs)

def cc_import(**kwargs):
    native.cc_import(**kwargs)

def cc_library(**kwargs):
    native.cc_library(**kwargs)

def cc_proto_library(**kwargs):
    native.cc_proto_library(**kwargs)

def cc_test(**kwargs):
    native.cc_test(**kwargs)

def cc_toolchain(**kwargs):
    native.cc_toolchain(**kwargs)

def cc_toolchain_suite(**kwargs):
    native.cc_toolchain_suite(**kwargs)

def fdo_prefetch_hints(**kwargs):
    native.fdo_prefetch_hints(**kwargs)

def fdo_profile(**kwargs):
    native.fdo_profile(**kwargs)

def objc_import(**kwargs):
    native.objc_import(**kwargs)

def objc_library(**kwargs):
    native.objc_library(**kwargs)
"""

def _rules_cc_stub_impl(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "rules_cc")\n')
    rctx.file("BUILD.bazel", "")
    rctx.file("cc/BUILD.bazel", 'exports_files(["defs.bzl"])\n')
    rctx.file("cc/defs.bzl", _RULES_CC_DEFS)

_rules_cc_stub = repository_rule(implementation = _rules_cc_stub_impl)

_COVERAGE_BUILD = """\
package(default_visibility = ["//visibility:public"])

filegroup(name = "coverage_report_generator")

filegroup(name = "lcov_merger")
"""

def _remote_coverage_tools_stub_impl(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "remote_coverage_tools")\n')
    rctx.file("BUILD.bazel", _COVERAGE_BUILD)

_remote_coverage_tools_stub = repository_rule(implementation = _remote_coverage_tools_stub_impl)

def bazel4_compat_repositories():
    """Declares the offline stand-ins; call before anything loads @rules_cc."""
    if not native.existing_rule("rules_cc"):
        _rules_cc_stub(name = "rules_cc")
    if not native.existing_rule("remote_coverage_tools"):
        _remote_coverage_tools_stub(name = "remote_coverage_tools")
