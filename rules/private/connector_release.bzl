"""connector_release: the unsigned release tree of a Go connector."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load(":platforms.bzl", "PLATFORMS", "check_platforms", "platform_label")
load(":providers.bzl", "ConnectorReleaseInfo", "GoReleaseBinaryInfo", "GoSdkInfo", "MsiInfo", "OciImageInfo", "ReleaseStampInfo")
load(":relkit_action.bzl", "RELKIT_ACTION_ATTRS", "RELKIT_TOOLCHAIN", "release_tag", "relkit_args", "run_relkit")

_DOC = """Builds every release artifact of a connector into one directory, `<name>/`.

For each platform, `binary` is built through a transition to that platform;
relkit then writes the archive (`R-TAG-os-arch.tar.gz` for Linux, `.zip`
elsewhere) and its SPDX SBOM (`<archive>.sbom.json`). The installers of `msi`
(msi_package targets, `R_TAG_windows_ARCH.msi`) join the archives; they have
no SBOM, as relkit sbom reads only Go binaries and archives. Over all of them
relkit writes the checksums (`R_VER_checksums.txt`), the unsigned SLSA
provenance statement (`provenance.intoto.json`, whose subjects include the
checksums file), the unsigned `manifest.json` (declaring the attestation
bundles publishing adds), and `index.json`, which lists every file for the
publish step. Docs, config schema and capabilities are copied under
`registry/`; the OCI layouts and `images.json` of `image` under `images/`,
ready for `relkit image push`. The tree is one directory output, replaced as
a whole on each build; the same files are also available one by one in the
`release_files` output group and the ConnectorReleaseInfo provider.

Every file is a function of the sources, the tag and the commit: no clock, no
network, no host paths. Archive times and the manifest's releasedAt are the
commit time, from Bazel stamping (`--stamp` with a workspace status command
printing STABLE_GIT_COMMIT, STABLE_COMMIT_EPOCH and STABLE_COMMIT_DATE);
without `--stamp` they are fixed placeholders (commit 000..., 1980-01-01).
The provenance's builder.id is the release workflow at its commit when the
status command also prints STABLE_WORKFLOW_REPOSITORY, STABLE_WORKFLOW_REF
(the commit) and STABLE_WORKFLOW_PATH, as relkit's release.yaml does, and
relkit's local builder otherwise.

The tag comes from `--@relkit//release:tag=v1.2.3` and is checked by
`relkit validate-inputs` in the first action; a bad tag fails the build with
relkit's message.

`binary` may be a go_release_binary or a rules_go go_binary: the platforms
carry only @platforms constraints, so rules_go resolves its SDK for each.

Example:

    connector_release(
        name = "release",
        binary = ":baton-example",
        org = "ConductorOne",
        repo = "baton-example",
        docs = "docs/connector.mdx",
        config_schema = "config_schema.json",
        capabilities = "baton_capabilities.json",
    )
"""

def _platforms_transition_impl(settings, attr):
    # An unsupported platform keeps the current one, so that the rule itself
    # can report it with a message naming the attribute.
    current = settings["//command_line_option:platforms"]
    return {
        p: {"//command_line_option:platforms": platform_label(p) if p in PLATFORMS else current}
        for p in attr.platforms
    }

platforms_transition = transition(
    implementation = _platforms_transition_impl,
    inputs = ["//command_line_option:platforms"],
    outputs = ["//command_line_option:platforms"],
)

def _file_arg(path, name):
    return "%s=%s" % (path, name)

def _connector_release_impl(ctx):
    name = ctx.label.name
    problem = check_platforms("platforms", ctx.attr.platforms)
    if problem:
        fail(problem)
    tag, version = release_tag(ctx)
    repo = ctx.attr.repo
    base_url = ctx.attr._base_url[BuildSettingInfo].value or ctx.attr.base_url
    msis = {}
    msi_infos = {}
    for target in ctx.attr.msi:
        info = target[MsiInfo]
        if info.connector != repo:
            fail("msi: %s installs %r, not this release's repo %r" % (target.label, info.connector, repo))
        if info.arch in msis:
            fail("msi: two installers for windows/%s" % info.arch)
        msis[info.arch] = info.msi
        msi_infos[info.arch] = info
    platforms = sorted(ctx.attr.platforms)

    # Each file is made in a staging directory, then the tree is assembled
    # as one directory output, which Bazel always replaces as a whole.
    stage = "_%s.stage" % name

    # 1. The inputs are checked before anything else is packaged.
    validated = ctx.actions.declare_file(name + ".validated")
    args = relkit_args(ctx, "validate-inputs", touch = validated)
    args.add("--tag", tag)
    if ctx.attr.msi:
        args.add("--msi")
    image = ctx.attr.image[OciImageInfo] if ctx.attr.image else None
    if image:
        if image.name != repo:
            fail("image: %s holds /%s, not this release's repo %r" % (ctx.attr.image.label, image.name, repo))
        args.add("--docker")
        if image.lambda_image:
            args.add("--lambda")
    run_relkit(ctx, "validate-inputs", "RelkitValidateInputs", args, [], [validated])

    # 2. An archive and an SBOM per platform.
    archives = {}
    sboms = {}
    for p in platforms:
        goos, goarch = p.split("/")
        target = ctx.split_attr.binary[p]
        exe = target[DefaultInfo].files_to_run.executable
        if not exe or exe.is_source:
            fail("binary: %s is not executable; want a go_release_binary or go_binary target" % target.label)
        if GoReleaseBinaryInfo in target:
            built = target[GoReleaseBinaryInfo]
            if (built.goos, built.goarch) != (goos, goarch):
                fail("binary: %s was built for %s/%s, not %s" % (target.label, built.goos, built.goarch, p))
        fmt = "tar.gz" if goos == "linux" else "zip"
        archive = ctx.actions.declare_file("%s/%s-%s-%s-%s.%s" % (stage, repo, tag, goos, goarch, fmt))
        args = relkit_args(ctx, "archive")
        args.add("--format", fmt)
        args.add("--mtime", "{STABLE_COMMIT_EPOCH}")
        args.add("--out", archive)
        args.add(_file_arg(exe.path, repo + (".exe" if goos == "windows" else "")))
        run_relkit(ctx, "archive", "RelkitArchive", args, [exe, validated], [archive])
        archives["%s-%s" % (goos, goarch)] = archive
    archive_list = [archives[k] for k in sorted(archives)]

    # One action for all SBOMs: syft's set-up costs about a second per
    # process, far more than cataloging an archive.
    for archive in archive_list:
        sboms[archive.basename] = ctx.actions.declare_file(archive.basename + ".sbom.json", sibling = archive)
    args = relkit_args(ctx, "sbom")
    args.add("--epoch", "{STABLE_COMMIT_EPOCH}")
    args.add("--out-dir", archive_list[0].dirname)
    args.add_all(archive_list)
    run_relkit(ctx, "sbom", "RelkitSbom", args, archive_list, sboms.values())

    # The installers join the archives in the staging directory, which
    # relkit manifest build reads.
    for arch in sorted(msis.keys()):
        staged_msi = ctx.actions.declare_file("%s/%s" % (stage, msis[arch].basename))
        ctx.actions.symlink(output = staged_msi, target_file = msis[arch])
        msis[arch] = staged_msi
    msi_list = [msis[a] for a in sorted(msis)]

    # Each installer's template goes into the tree beside it (not a release
    # asset: the manifest does not list it), so that publishing can rebuild
    # the MSI around the signed executable from the recipe in index.json.
    # An MsiInfo made elsewhere may lack the recipe; publishing then refuses
    # to Authenticode-sign that installer.
    templates = {}
    recipes = {}
    for arch in sorted(msi_infos.keys()):
        info = msi_infos[arch]
        if not getattr(info, "template", None):
            continue
        templates[arch] = ctx.actions.declare_file("%s/%s.wxs" % (stage, msis[arch].basename))
        ctx.actions.symlink(output = templates[arch], target_file = info.template)
        recipes[arch] = dict(
            name = info.connector,
            binary_name = info.binary_name,
            vendor = info.vendor,
            template = templates[arch].basename,
            **info.service
        )

    # 3. Checksums, provenance and manifest over all archives and installers.
    checksums = ctx.actions.declare_file("%s/%s_%s_checksums.txt" % (stage, repo, version))
    args = relkit_args(ctx, "checksums")
    args.add("--out", checksums)
    args.add_all(archive_list + msi_list)
    run_relkit(ctx, "checksums", "RelkitChecksums", args, archive_list + msi_list, [checksums])

    # The checksums file is a subject too: publishing attests it like the
    # artifacts, as the manifest built with --expect-attestations declares.
    subjects = archive_list + msi_list + [checksums]
    provenance = ctx.actions.declare_file(stage + "/provenance.intoto.json")
    workflow_stamp = ctx.attr._workflow_stamp[ReleaseStampInfo].file
    args = relkit_args(ctx, "provenance", stamps = [workflow_stamp])
    args.add("--out", provenance)
    args.add_all(subjects, before_each = "--subject")
    args.add("--repository", "%s/%s" % (ctx.attr.org, repo))
    args.add("--tag", tag)
    args.add("--commit", "{STABLE_GIT_COMMIT}")

    # builder.id is the release workflow at its commit when the build is
    # stamped with it; without those keys the values are empty and relkit
    # names its local builder.
    args.add("--workflow-repository", "{STABLE_WORKFLOW_REPOSITORY}")
    args.add("--workflow-ref", "{STABLE_WORKFLOW_REF}")
    args.add("--workflow-path", "{STABLE_WORKFLOW_PATH}")
    go_versions = sorted({
        t[GoReleaseBinaryInfo].go_version: True
        for t in ctx.split_attr.binary.values()
        if GoReleaseBinaryInfo in t
    }.keys())
    args.add_all(["go=go" + v for v in go_versions], before_each = "--toolchain")
    args.add("--toolchain", "relkit=" + ctx.toolchains[RELKIT_TOOLCHAIN].relkit.version)
    run_relkit(ctx, "provenance", "RelkitProvenance", args, subjects + [workflow_stamp], [provenance])

    manifest = ctx.actions.declare_file(stage + "/manifest.json")
    args = relkit_args(ctx, "manifest build")
    args.add("--dir", manifest.dirname)
    args.add("--org", ctx.attr.org)
    args.add("--repo", repo)
    args.add("--tag", tag)
    args.add("--base-url", base_url)
    args.add("--released-at", "{STABLE_COMMIT_DATE}")
    args.add("--platforms", ",".join(platforms))
    args.add("--expect-attestations")
    args.add("--out", manifest)
    run_relkit(ctx, "manifest build", "RelkitManifest", args, archive_list + msi_list + sboms.values() + [checksums], [manifest])

    # 4. Registry metadata travels with the release.
    registry = {}
    for attr_name, dest in [("docs", "connector.mdx"), ("config_schema", "config_schema.json"), ("capabilities", "baton_capabilities.json")]:
        src = getattr(ctx.file, attr_name)
        if src:
            registry["registry/" + dest] = src

    # 5. The index: what the publish step reads, with paths relative to the tree.
    index = ctx.actions.declare_file(stage + "/index.json")
    ctx.actions.write(index, json.encode_indent(struct(
        schema = "https://relkit.dev/index/v1",
        org = ctx.attr.org,
        repo = repo,
        tag = tag,
        version = version,
        stamped = ctx.attr._stamp[ReleaseStampInfo].stamped,
        artifacts = [
            struct(
                platform = p,
                key = p.replace("/", "-"),
                archive = archives[p.replace("/", "-")].basename,
                sbom = sboms[archives[p.replace("/", "-")].basename].basename,
                binary = repo + (".exe" if p.startswith("windows/") else ""),
            )
            for p in platforms
        ],
        # With the inputs of 'relkit msi build' but the executable and the
        # epoch (the commit time, also the SBOMs' creation time).
        installers = [struct(arch = a, msi = msis[a].basename, **recipes.get(a, {})) for a in sorted(msis)],
        checksums = checksums.basename,
        provenance = provenance.basename,
        manifest = manifest.basename,
        registry = sorted(registry.keys()),
        images = "images" if image else None,
    ), indent = "  ") + "\n")

    # 6. The tree.
    staged = archive_list + [sboms[a.basename] for a in archive_list] + msi_list + [templates[a] for a in sorted(templates)] + [checksums, provenance, manifest, index]
    tree = ctx.actions.declare_directory(name)
    args = ctx.actions.args()
    args.use_param_file("--params=%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("tree")
    args.add("--out", tree.path)
    args.add_all(["%s=%s" % (f.path, f.basename) for f in staged])
    args.add_all(["%s=%s" % (f.path, n) for n, f in sorted(registry.items())])

    # The image layouts and images.json, for relkit image push.
    images = [image.dir] if image else []
    args.add_all(["%s=images" % d.path for d in images])
    sdk = ctx.attr._sdk[GoSdkInfo]
    ctx.actions.run(
        executable = sdk.builder,
        arguments = sdk.builder_args + [args],
        inputs = staged + registry.values() + images,
        outputs = [tree],
        mnemonic = "RelkitTree",
        progress_message = "Relkit tree %s" % tree.short_path,
    )

    return [
        DefaultInfo(files = depset([tree])),
        OutputGroupInfo(
            _validation = depset([validated]),
            release_files = depset(staged),
        ),
        ConnectorReleaseInfo(
            org = ctx.attr.org,
            repo = repo,
            tag = tag,
            version = version,
            platforms = platforms,
            tree = tree,
            archives = archives,
            msis = msis,
            images = image.dir if image else None,
            registry = registry,
            sboms = sboms,
            provenance = provenance,
            checksums = checksums,
            manifest = manifest,
            index = index,
            validation = validated,
            files = depset(staged + registry.values()),
        ),
    ]

connector_release_rule = rule(
    implementation = _connector_release_impl,
    doc = _DOC,
    attrs = dict(RELKIT_ACTION_ATTRS, **{
        # Not executable = True: Bazel 4 cannot combine it with a split
        # transition; the implementation checks for an executable instead.
        "binary": attr.label(
            mandatory = True,
            cfg = platforms_transition,
            doc = "The connector's executable Go target, built once per platform.",
        ),
        "org": attr.string(mandatory = True, doc = "GitHub owner of the connector repository, case preserved."),
        "repo": attr.string(mandatory = True, doc = "Connector repository name: the binary, archive and image name."),
        "platforms": attr.string_list(
            default = sorted(PLATFORMS.keys()),
            doc = "GOOS/GOARCH pairs to release, from: " + ", ".join(sorted(PLATFORMS.keys())) + ".",
        ),
        "docs": attr.label(allow_single_file = [".mdx", ".md"], doc = "Connector documentation, e.g. docs/connector.mdx."),
        "config_schema": attr.label(allow_single_file = [".json"], doc = "config_schema.json of the connector."),
        "capabilities": attr.label(allow_single_file = [".json"], doc = "baton_capabilities.json of the connector."),
        "base_url": attr.string(
            default = "https://dist.conductorone.com",
            doc = "Public download root; hrefs are <base_url>/releases/<org>/<repo>/<tag>/<file>. --@relkit//release:base_url overrides it.",
        ),
        "msi": attr.label_list(
            providers = [MsiInfo],
            doc = "Windows installers (msi_package targets), at most one per arch; each becomes the windows-<arch>-msi asset.",
        ),
        "image": attr.label(
            providers = [OciImageInfo],
            doc = "Container images (an oci_image_attested target), copied into the tree under images/; optional.",
        ),
        "_base_url": attr.label(default = "//release:base_url"),
        "_workflow_stamp": attr.label(default = "//rules/private:workflow_stamp", providers = [ReleaseStampInfo]),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    }),
    toolchains = [RELKIT_TOOLCHAIN],
    provides = [ConnectorReleaseInfo],
)
