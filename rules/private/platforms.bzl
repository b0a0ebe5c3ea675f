"""The release platforms: Go's os/arch pairs and their @platforms constraints."""

# "goos/goarch" -> constraint values. Default platforms of connector_release.
PLATFORMS = {
    "darwin/amd64": ["@platforms//os:osx", "@platforms//cpu:x86_64"],
    "darwin/arm64": ["@platforms//os:osx", "@platforms//cpu:aarch64"],
    "linux/amd64": ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    "linux/arm64": ["@platforms//os:linux", "@platforms//cpu:aarch64"],
    "windows/amd64": ["@platforms//os:windows", "@platforms//cpu:x86_64"],
    "windows/arm64": ["@platforms//os:windows", "@platforms//cpu:aarch64"],
}

def platform_label(key):
    """Returns the label string of the platform target for "goos/goarch".

    Args:
      key: a key of PLATFORMS.
    Returns:
      The label, e.g. "@relkit//rules/platforms:linux_amd64".
    """
    return str(Label("//rules/platforms:" + key.replace("/", "_")))

def check_platforms(what, platforms):
    """Returns an error message for unsupported or repeated platforms, or None.

    Args:
      what: how to name the attribute in the message, e.g. "connector_release(name = "release"): platforms".
      platforms: list of "goos/goarch" strings.
    Returns:
      None when every platform is supported and listed once; otherwise the message.
    """
    if not platforms:
        return "%s: empty; list at least one of %s" % (what, ", ".join(PLATFORMS.keys()))
    seen = {}
    for p in platforms:
        if p not in PLATFORMS:
            return "%s: %r is not supported; supported: %s" % (what, p, ", ".join(PLATFORMS.keys()))
        if p in seen:
            return "%s: %r is listed twice" % (what, p)
        seen[p] = True
    return None
