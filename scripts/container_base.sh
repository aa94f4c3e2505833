#!/usr/bin/env bash
# Make a local stand-in for the Dockerfile's base image (`FROM python:…`) on a machine that
# cannot pull from any container registry: a minimal Debian bookworm made with debootstrap from
# the host's Debian mirror, with Debian's python3 (+ venv, pip) and `python`/`python3.11` in
# /usr/local/bin like the official image, the host's CA bundle and the host's pip index settings,
# imported into podman as docker.io/library/python:<tag>. Debian's python is not the official
# image's /usr/local build: this proves the Dockerfile builds and runs, not the real base.
#
#   bash scripts/container_base.sh [TAG]     # TAG defaults to the Dockerfile's FROM tag
#
# The root filesystem is cached as a tarball (NEWSDESK_STANDIN_CACHE, /tmp/newsdesk-standin);
# nothing is done when podman already has the image. Needs root, debootstrap and podman.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> [base] %s\n' "$*"; }
die() { printf '!!! [base] %s\n' "$*" >&2; exit 1; }

if [[ $# -ge 1 ]]; then
    tag=$1
else
    [[ -f Dockerfile ]] || die "no Dockerfile in $PWD"
    from=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
    [[ $from == python:* ]] || die "Dockerfile's first FROM is '$from', not python:<tag>"
    tag=${from#python:}
fi
image="docker.io/library/python:$tag"
suite=bookworm
packages=python3,python3-venv,python3-pip,ca-certificates
cache=${NEWSDESK_STANDIN_CACHE:-/tmp/newsdesk-standin}
tarball=$cache/rootfs.tar

if podman image exists "$image"; then
    say "$image already present ($(podman image inspect --format '{{index .Labels "org.newsdesk.standin"}}' "$image" 2>/dev/null || true)); nothing to do"
    exit 0
fi
[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, podman import)"

# The host's Debian mirror (deb822 .sources or one-line .list), else deb.debian.org.
mirror=${NEWSDESK_STANDIN_MIRROR:-}
if [[ -z $mirror ]]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -v '^[[:space:]]*#' | grep -oE '(https?)://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
    mirror=${mirror:-http://deb.debian.org/debian}
fi

# pip settings that decide how pip reaches its index (index URLs, proxy, trusted hosts,
# timeouts), taken from the host's effective configuration (files and PIP_* variables);
# local paths and file:// indexes do not exist inside the image and are left out. The CA
# bundle is the host's, copied to the same place. Only the stand-in gets these: the real
# image reaches the real PyPI with its own settings.
pip_conf=$(python3 - <<'PY'
import re
import subprocess
import sys

try:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
except (OSError, subprocess.CalledProcessError):
    out = ""
keep = {"index-url", "extra-index-url", "trusted-host", "proxy", "timeout", "default-timeout",
        "retries"}
settings = {}
for line in out.splitlines():
    m = re.match(r"^(?:[^.]*)\.([a-z-]+)='(.*)'$", line)
    if not m or m.group(1) not in keep:
        continue
    values = [v for v in m.group(2).split() if not v.startswith(("file:", "/"))]
    if values:
        settings[m.group(1)] = " ".join(values)
print("[global]")
print("cert = /etc/ssl/certs/ca-certificates.crt")
for key, value in sorted(settings.items()):
    print(f"{key} = {value}")
PY
)
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -s $ca_bundle ]] || die "no CA bundle at $ca_bundle"

# The cached tarball is reused while what went into it is unchanged.
key=$(printf '%s\n' "$suite" "$mirror" "$packages" "$pip_conf" "$(sha256sum "$ca_bundle")" | sha256sum | cut -c1-16)
mkdir -p "$cache"
if [[ -s $tarball && $(cat "$tarball.key" 2>/dev/null) == "$key" ]]; then
    say "reusing cached root filesystem $tarball"
else
    say "debootstrap $suite from $mirror with $packages (about a minute)"
    root=$(mktemp -d "$cache/rootfs.XXXXXX")
    cleanup() {
        # debootstrap mounts /proc and /sys inside the target: never rm -rf through a mount.
        grep -o " $root/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf --one-file-system "$root"
    }
    trap cleanup EXIT
    if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" \
        >"$cache/debootstrap.log" 2>&1; then
        tail -n 30 "$cache/debootstrap.log" >&2
        die "debootstrap failed (full log: $cache/debootstrap.log)"
    fi
    # Like the official image: python, python3, python3.11, pip and pip3 in /usr/local/bin.
    for name in python python3 python3.11; do
        ln -sf /usr/bin/python3.11 "$root/usr/local/bin/$name"
    done
    for name in pip pip3; do
        ln -sf /usr/bin/pip3 "$root/usr/local/bin/$name"
    done
    cp "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
    printf '%s\n' "$pip_conf" >"$root/etc/pip.conf"
    printf 'nameserver 127.0.0.1\n' >"$root/etc/resolv.conf"  # replaced by the runtime
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/var/log/* "$root"/tmp/* "$root"/root/.cache
    say "packing $tarball"
    tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
        --exclude='./run/*' -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    printf '%s\n' "$key" >"$tarball.key"
    cleanup
    trap - EXIT
fi

version=$(tar -xOf "$tarball" ./var/lib/dpkg/status 2>/dev/null |
    awk '/^Package: python3.11-minimal$/ { p = 1 } p && /^Version:/ { print $2; exit }')
say "importing as $image (Debian python3.11 ${version:-?})"
podman import --quiet \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.newsdesk.standin=debootstrap-$suite-python3.11-${version:-unknown}" \
    --change 'CMD ["python3"]' \
    "$tarball" "$image" >/dev/null
say "stand-in ready: $image"
