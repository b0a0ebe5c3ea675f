#!/usr/bin/env bash
# Installs the Windows installer toolchain relkit uses on a Debian 12 machine:
# wixl and msitools (build MSIs from WiX v3 XML, edit and read them back),
# faketime (a fixed clock for byte-identical builds) and osslsigncode
# (Authenticode). Idempotent: nothing is installed when every tool is present.
set -euo pipefail

# tool:package pairs; a tool missing from PATH pulls in its package.
tools=(wixl:wixl msibuild:msitools msiinfo:msitools msidump:msitools msiextract:msitools
  faketime:faketime osslsigncode:osslsigncode)

missing=()
for pair in "${tools[@]}"; do
  tool=${pair%%:*} pkg=${pair#*:}
  if ! command -v "$tool" >/dev/null; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-msi-tools: missing Debian packages: ${missing[*]}" >&2
    echo "install-msi-tools: run as root on Debian/Ubuntu, or install them yourself: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "install-msi-tools: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for pair in "${tools[@]}"; do
  command -v "${pair%%:*}" >/dev/null || { echo "install-msi-tools: ${pair%%:*} still missing after install" >&2; exit 1; }
done
echo "install-msi-tools: $(wixl --version 2>&1 | head -1 | sed 's/^/wixl /'), $(osslsigncode --version 2>&1 | head -1 | sed "s/, using://")" >&2
