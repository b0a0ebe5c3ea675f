"""Unit and analysis tests of the Starlark logic in //rules."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("//rules:defs.bzl", "ConnectorReleaseInfo", "MsiInfo", "OciImageInfo")
load("//rules/private:go_release_binary.bzl", "substitute_known")
load("//rules/private:go_release_extension.bzl", "go_release_config")
load("//rules/private:platforms.bzl", "PLATFORMS", "check_platforms", "platform_label")

def _fake_binary_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(out, "", is_executable = True)
    return [DefaultInfo(executable = out)]

fake_binary = rule(
    implementation = _fake_binary_impl,
    doc = "An executable that is never run: a stand-in binary for analysis tests.",
    executable = True,
)

def _check_platforms_test_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, None, check_platforms("platforms", sorted(PLATFORMS.keys())))
    asserts.equals(env, None, check_platforms("platforms", ["windows/arm64"]))
    msg = check_platforms("platforms", ["linux/amd64", "plan9/amd64"])
    asserts.true(env, msg.startswith('platforms: "plan9/amd64" is not supported; supported: darwin/amd64,'), msg)
    asserts.equals(env, 'platforms: "linux/amd64" is listed twice', check_platforms("platforms", ["linux/amd64", "linux/amd64"]))
    asserts.true(env, check_platforms("platforms", []).startswith("platforms: empty"))
    asserts.true(env, check_platforms("platforms", ["linux-amd64"]) != None, "os-arch form is not an attribute value")
    return unittest.end(env)

_check_platforms_test = unittest.make(_check_platforms_test_impl)

def _platform_label_test_impl(ctx):
    env = unittest.begin(ctx)
    for key in PLATFORMS:
        label = platform_label(key)
        asserts.true(env, label.endswith("//rules/platforms:" + key.replace("/", "_")), label)
    return unittest.end(env)

_platform_label_test = unittest.make(_platform_label_test_impl)

def _substitute_known_test_impl(ctx):
    env = unittest.begin(ctx)
    known = {"TAG": "v1.2.3", "VERSION": "1.2.3"}
    asserts.equals(env, "1.2.3", substitute_known("{VERSION}", known))
    asserts.equals(env, "v1.2.3-{STABLE_GIT_COMMIT}", substitute_known("{TAG}-{STABLE_GIT_COMMIT}", known))
    asserts.equals(env, "plain", substitute_known("plain", known))
    return unittest.end(env)

_substitute_known_test = unittest.make(_substitute_known_test_impl)

def _module(sdk = [], relkit = [], modules = []):
    return struct(tags = struct(sdk = sdk, relkit = relkit, modules = modules))

def _sdk_tag(version = "1.26.8", sha256s = {}, host = False, compile_helper = False):
    return struct(version = version, sha256s = sha256s, host = host, compile_helper = compile_helper)

def _relkit_tag(version, url_template = ""):
    return struct(version = version, sha256s = {}, url_template = url_template)

def _go_release_config_test_impl(ctx):
    env = unittest.begin(ctx)

    # relkit's own MODULE.bazel pins a prebuilt relkit; it also runs the actions.
    relkit_dep = _module(relkit = [_relkit_tag("v0.1.0")])
    cfg = go_release_config([_module(), relkit_dep])
    asserts.equals(env, {"name": "relkit_prebuilt", "version": "v0.1.0", "sha256s": {}, "url_template": ""}, cfg.prebuilt)
    asserts.equals(env, "@relkit_prebuilt_binary//:relkit_bin", cfg.sdk["helper"])
    asserts.equals(env, False, cfg.sdk["host"])

    # The root module's tags win: another version from a mirror, the host SDK.
    root = _module(sdk = [_sdk_tag(version = "1.26.9", host = True)], relkit = [_relkit_tag("v0.2.0", "https://mirror.invalid/{version}/{platform}.{ext}")])
    cfg = go_release_config([root, relkit_dep])
    asserts.equals(env, "v0.2.0", cfg.prebuilt["version"])
    asserts.equals(env, "https://mirror.invalid/{version}/{platform}.{ext}", cfg.prebuilt["url_template"])
    asserts.equals(env, "1.26.9", cfg.sdk["version"])
    asserts.equals(env, True, cfg.sdk["host"])

    # A Go release relkit does not pin comes with its sha256s.
    pin = {"linux-amd64": "0" * 64}
    cfg = go_release_config([_module(sdk = [_sdk_tag(version = "1.26.9", sha256s = pin)]), relkit_dep])
    asserts.equals(env, pin, cfg.sdk["sha256s"])
    asserts.equals(env, "@relkit_prebuilt_binary//:relkit_bin", cfg.sdk["helper"])

    # relkit's own repository builds relkit from source: the helper is compiled.
    cfg = go_release_config([_module(sdk = [_sdk_tag(compile_helper = True)], relkit = [_relkit_tag("v0.1.0")])])
    asserts.equals(env, None, cfg.sdk["helper"])

    # No prebuilt relkit at all: compiled helper, the pinned Go.
    cfg = go_release_config([_module()])
    asserts.equals(env, None, cfg.prebuilt)
    asserts.equals(env, None, cfg.sdk["helper"])

    # Module caches come from every module.
    mods = go_release_config([
        _module(modules = [struct(name = "a_modules", go_mod = "//:go.mod", go_sum = "//:go.sum")]),
        _module(modules = [struct(name = "b_modules", go_mod = "//b:go.mod", go_sum = "//b:go.sum")]),
    ]).modules
    asserts.equals(env, ["a_modules", "b_modules"], [m["name"] for m in mods])
    return unittest.end(env)

_go_release_config_test = unittest.make(_go_release_config_test_impl)

def _release_provider_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[ConnectorReleaseInfo]
    asserts.equals(env, "v1.2.3", info.tag)
    asserts.equals(env, "1.2.3", info.version)
    asserts.equals(env, ["linux/arm64", "windows/amd64"], info.platforms)
    asserts.equals(env, ["fake-v1.2.3-linux-arm64.tar.gz", "fake-v1.2.3-windows-amd64.zip"], sorted([f.basename for f in info.archives.values()]))
    asserts.equals(env, "fake_1.2.3_checksums.txt", info.checksums.basename)
    asserts.equals(env, "release_fixture", info.tree.basename)
    asserts.true(env, info.tree.is_directory)
    names = sorted([f.basename for f in info.files.to_list()])
    asserts.equals(env, [
        "fake-v1.2.3-linux-arm64.tar.gz",
        "fake-v1.2.3-linux-arm64.tar.gz.sbom.json",
        "fake-v1.2.3-windows-amd64.zip",
        "fake-v1.2.3-windows-amd64.zip.sbom.json",
        "fake_1.2.3_checksums.txt",
        "fake_v1.2.3_windows_arm64.msi",
        "fake_v1.2.3_windows_arm64.msi.wxs",
        "fixture.mdx",
        "index.json",
        "manifest.json",
        "provenance.intoto.json",
    ], names)
    asserts.equals(env, ["arm64"], info.msis.keys())

    # index.json records how the installer was built, for publishing to
    # rebuild it around the Authenticode-signed executable.
    index = [a for a in analysistest.target_actions(env) if a.mnemonic == "FileWrite" and a.outputs.to_list()[0].basename == "index.json"]
    asserts.equals(env, 1, len(index))
    asserts.true(env, '"template": "fake_v1.2.3_windows_arm64.msi.wxs"' in index[0].content, "index.json lacks the installer recipe")
    asserts.equals(env, "image_fixture", info.images.basename)
    actions = analysistest.target_actions(env)
    mnemonics = sorted({a.mnemonic: True for a in actions}.keys())
    asserts.equals(env, ["RelkitArchive", "RelkitChecksums", "RelkitManifest", "RelkitProvenance", "RelkitSbom", "RelkitTree", "RelkitValidateInputs"], [m for m in mnemonics if m not in ["FileWrite", "Symlink"]])

    # One SBOM action for every archive: syft's set-up is paid once.
    sbom_actions = [a for a in actions if a.mnemonic == "RelkitSbom"]
    asserts.equals(env, 1, len(sbom_actions))
    asserts.equals(env, sorted(info.sboms.keys()), sorted([f.basename for f in sbom_actions[0].inputs.to_list() if f.basename in info.sboms]))

    # The installer is an artifact like the archives; the checksums file is a
    # provenance subject; the Windows zip does not wait for the installer.
    for a in actions:
        inputs = [f.basename for f in a.inputs.to_list()]
        if a.mnemonic == "RelkitProvenance":
            asserts.true(env, "fake_v1.2.3_windows_arm64.msi" in inputs, "provenance lacks the msi")
            asserts.true(env, "fake_1.2.3_checksums.txt" in inputs, "provenance lacks the checksums file")

            # builder.id comes from the workflow stamp keys.
            asserts.true(env, "workflow_stamp.txt" in inputs, "provenance lacks the workflow stamp")
            for flag, key in [
                ("--workflow-repository", "{STABLE_WORKFLOW_REPOSITORY}"),
                ("--workflow-ref", "{STABLE_WORKFLOW_REF}"),
                ("--workflow-path", "{STABLE_WORKFLOW_PATH}"),
            ]:
                i = a.argv.index(flag) if flag in a.argv else -1
                asserts.true(env, i >= 0 and a.argv[i + 1] == key, "provenance lacks %s %s: %s" % (flag, key, a.argv))
        elif a.mnemonic.startswith("Relkit"):
            # Only provenance reruns when the workflow commit changes.
            asserts.false(env, "workflow_stamp.txt" in inputs, a.mnemonic + " depends on the workflow stamp")
        if a.mnemonic in ["RelkitChecksums", "RelkitManifest"]:
            asserts.true(env, "fake_v1.2.3_windows_arm64.msi" in inputs, a.mnemonic + " lacks the msi")
        if a.mnemonic == "RelkitArchive":
            asserts.false(env, [n for n in inputs if n.endswith(".msi")], "an archive depends on the msi")
    return analysistest.end(env)

_release_provider_test = analysistest.make(
    _release_provider_test_impl,
    config_settings = {"//release:tag": "v1.2.3"},
)

def _workflow_stamp_test_impl(ctx):
    env = analysistest.begin(ctx)
    writes = [a for a in analysistest.target_actions(env) if a.mnemonic == "FileWrite"]
    asserts.equals(env, 1, len(writes))

    # Unstamped, every workflow key is empty: provenance names the local builder.
    asserts.equals(env, "STABLE_WORKFLOW_PATH \nSTABLE_WORKFLOW_REF \nSTABLE_WORKFLOW_REPOSITORY \n", writes[0].content)
    return analysistest.end(env)

_workflow_stamp_test = analysistest.make(_workflow_stamp_test_impl)

def _msi_package_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    info = target[MsiInfo]
    asserts.equals(env, "fake_v1.2.3_windows_arm64.msi", info.msi.basename)
    asserts.equals(env, "arm64", info.arch)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "RelkitMsiBuild"]
    asserts.equals(env, 1, len(actions))

    # The host's msitools version keys the action: an upgrade rebuilds.
    versions = [f for f in actions[0].inputs.to_list() if f.short_path.endswith("relkit_msitools/version.txt")]
    asserts.equals(env, 1, len(versions), "the msi action does not read @relkit_msitools//:version.txt")
    return analysistest.end(env)

_msi_package_test = analysistest.make(
    _msi_package_test_impl,
    config_settings = {"//release:tag": "v1.2.3"},
)

def _oci_image_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[OciImageInfo]
    asserts.equals(env, "fake", info.name)
    asserts.true(env, info.lambda_image)
    asserts.true(env, info.dir.is_directory)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "RelkitImageBuild"]
    asserts.equals(env, 1, len(actions))
    args = actions[0].argv
    for want in ["--tag", "v1.2.3", "--lambda-binary", "--ca-certs", "--env", "B=2", "--entrypoint", '["/fake","serve"]', "--created", "{STABLE_COMMIT_EPOCH}"]:
        asserts.true(env, want in args, "image build lacks %r: %s" % (want, args))
    binaries = sorted([args[i + 1].split("=")[0] for i in range(len(args) - 1) if args[i] == "--binary"])
    asserts.equals(env, ["linux/amd64", "linux/arm64"], binaries)
    return analysistest.end(env)

_oci_image_test = analysistest.make(
    _oci_image_test_impl,
    config_settings = {"//release:tag": "v1.2.3"},
)

def _go_release_binary_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic == "GoReleaseBuild"]
    asserts.equals(env, 1, len(actions))

    args = actions[0].argv
    for want in ["gobuild", "--goos", "linux", "--goarch", "arm64", "-X", "main.version=1.2.3"]:
        asserts.true(env, want in args, "go build lacks %r: %s" % (want, args))
    asserts.equals(env, ctx.attr.strip, "--strip" in args, "--strip in %s" % args)
    return analysistest.end(env)

_go_release_binary_test = analysistest.make(
    _go_release_binary_test_impl,
    attrs = {"strip": attr.bool()},
    config_settings = {
        "//release:tag": "v1.2.3",
        "//command_line_option:platforms": str(Label("//rules/platforms:linux_arm64")),
    },
)

def _self_release_test_impl(ctx):
    # relkit releases itself with its own rules: the default six platforms.
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[ConnectorReleaseInfo]
    asserts.equals(env, sorted(PLATFORMS.keys()), info.platforms)
    asserts.equals(env, [
        "relkit-v1.2.3-darwin-amd64.zip",
        "relkit-v1.2.3-darwin-arm64.zip",
        "relkit-v1.2.3-linux-amd64.tar.gz",
        "relkit-v1.2.3-linux-arm64.tar.gz",
        "relkit-v1.2.3-windows-amd64.zip",
        "relkit-v1.2.3-windows-arm64.zip",
    ], sorted([f.basename for f in info.archives.values()]))
    asserts.equals(env, "relkit_1.2.3_checksums.txt", info.checksums.basename)
    return analysistest.end(env)

_self_release_test = analysistest.make(
    _self_release_test_impl,
    config_settings = {"//release:tag": "v1.2.3"},
)

def _expect_failure_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

_expect_failure_test = analysistest.make(
    _expect_failure_impl,
    expect_failure = True,
    attrs = {"message": attr.string()},
)

_bad_tag_test = analysistest.make(
    _expect_failure_impl,
    expect_failure = True,
    attrs = {"message": attr.string()},
    config_settings = {"//release:tag": "v1/2"},
)

def starlark_test_suite(name):
    """Declares the Starlark tests and the fixtures they analyse.

    Args:
      name: name of the test_suite.
    """
    unittest.suite(
        name + "_unit",
        _check_platforms_test,
        _platform_label_test,
        _substitute_known_test,
        _go_release_config_test,
    )
    _release_provider_test(name = "release_provider_test", target_under_test = ":release_fixture")
    _msi_package_test(name = "msi_package_test", target_under_test = ":msi_fixture")
    _workflow_stamp_test(name = "workflow_stamp_test", target_under_test = "//rules/private:workflow_stamp")
    _oci_image_test(name = "oci_image_test", target_under_test = ":image_fixture")
    _self_release_test(name = "self_release_test", target_under_test = "//release:release")
    _go_release_binary_test(name = "go_release_binary_test", target_under_test = ":go_binary_fixture", strip = True)
    _go_release_binary_test(name = "go_release_binary_unstripped_test", target_under_test = ":go_binary_unstripped_fixture", strip = False)
    _expect_failure_test(
        name = "msi_other_connector_test",
        target_under_test = ":msi_other_connector_fixture_release",
        message = "msi: //rules/tests:msi_other_connector_fixture installs \"other\", not this release's repo \"fake\"",
    )
    _expect_failure_test(
        name = "unsupported_platform_test",
        target_under_test = ":unsupported_platform_fixture",
        message = 'platforms: "plan9/amd64" is not supported',
    )
    _expect_failure_test(
        name = "not_executable_test",
        target_under_test = ":not_executable_fixture",
        message = "binary: //rules/tests:not_executable is not executable",
    )
    _bad_tag_test(
        name = "bad_tag_test",
        target_under_test = ":release_fixture",
        message = "tag (--@relkit//release:tag): \"v1/2\" cannot name release files",
    )
    native.test_suite(
        name = name,
        tests = [
            name + "_unit",
            ":bad_tag_test",
            ":go_release_binary_test",
            ":go_release_binary_unstripped_test",
            ":msi_other_connector_test",
            ":msi_package_test",
            ":oci_image_test",
            ":not_executable_test",
            ":release_provider_test",
            ":self_release_test",
            ":unsupported_platform_test",
            ":workflow_stamp_test",
        ],
    )
