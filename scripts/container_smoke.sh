#!/usr/bin/env bash
# Build the Dockerfile and run the image end to end, on a Debian machine without Docker and
# without access to a container registry (CI): podman builds and runs it as root, on a local
# stand-in for the `python:` base image (scripts/container_base.sh, cached under /tmp).
#
#   sudo bash scripts/container_smoke.sh
#
# Checks: the image runs as a numeric non-root user and refuses to serve without keys; with a
# key it answers /health and /docs and its HEALTHCHECK reports healthy; an article written
# with `?refresh=wait` is found by search; after `kill -9` a new container on the same named
# volume still has it. Containers and the volume are removed on exit; the images are kept
# (the stand-in base is the slow part). Installs podman, debootstrap and runc when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

image=localhost/newsdesk:smoke
volume=newsdesk-smoke-data
containers=(newsdesk-smoke-1 newsdesk-smoke-2 newsdesk-smoke-nokey)
logs=${NEWSDESK_SMOKE_LOGS:-/tmp/newsdesk-smoke}
network=${NEWSDESK_SMOKE_NETWORK:-publish}  # publish (-p 127.0.0.1:PORT:8000) or host
# crun fails on hybrid cgroups (v1 + v2) and the default ulimits cannot be set here.
run_options=(--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

step() { printf '\n==> [%3ds] %s\n' "$SECONDS" "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
fail() {
    printf '\n!!! FAILED: %s\n' "$*" >&2
    exit 1
}
# podman without systemd logs an error for every healthcheck timer it cannot create: noise here
# (`podman healthcheck run` below runs the check itself).
pod() { podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ $status -ne 0 ]]; then
        for name in "${containers[@]}"; do
            if podman container exists "$name" 2>/dev/null; then
                printf '\n----- logs of %s (last 80 lines) -----\n' "$name" >&2
                podman logs --tail 80 "$name" >&2 2>&1 || true
                printf -- '----- state: %s\n' \
                    "$(podman inspect --format '{{.State.Status}} exit={{.State.ExitCode}}' "$name" 2>/dev/null)" >&2
            fi
        done
    fi
    for name in "${containers[@]}"; do
        podman rm --force --volumes --time 0 "$name" >/dev/null 2>&1 || true
    done
    podman volume rm --force "$volume" >/dev/null 2>&1 || true
    if [[ $status -eq 0 ]]; then
        printf '\n==> [%3ds] container smoke test passed\n' "$SECONDS"
    else
        printf '\n!!! container smoke test FAILED (exit %d); logs in %s\n' "$status" "$logs" >&2
    fi
    exit "$status"
}

# --- the host -----------------------------------------------------------------------------
step "host tools"
[[ $(id -u) -eq 0 ]] || fail "run as root: podman builds and runs the image as root here"
command -v python3 >/dev/null || fail "python3 is needed for the HTTP checks"
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v runc >/dev/null || missing+=(runc)
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "    installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi
ok "$(podman --version), $(runc --version | head -n1), debootstrap $(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null || echo '?')"

mkdir -p "$logs"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for name in "${containers[@]}"; do  # leftovers of an interrupted run
    podman rm --force --volumes --time 0 "$name" >/dev/null 2>&1 || true
done
podman volume rm --force "$volume" >/dev/null 2>&1 || true

# The HTTP client: python3's urllib, so that neither curl nor jq is needed.
http=$logs/smoke_http.py  # not http.py: that would shadow the http package
cat >"$http" <<'PY'
"""smoke_http.py METHOD URL [--expect CODE] [--key KEY] [--data FILE] [--timeout S]: print the body."""
import argparse
import sys
import urllib.error
import urllib.request

p = argparse.ArgumentParser()
p.add_argument("method")
p.add_argument("url")
p.add_argument("--expect", type=int, default=200)
p.add_argument("--key")
p.add_argument("--data")
p.add_argument("--timeout", type=float, default=30)
a = p.parse_args()
headers = {"Accept": "application/json"}
body = None
if a.data:
    body = open(a.data, "rb").read()
    headers["Content-Type"] = "application/json"
if a.key:
    headers["Authorization"] = f"Bearer {a.key}"
request = urllib.request.Request(a.url, data=body, headers=headers, method=a.method)
try:
    with urllib.request.urlopen(request, timeout=a.timeout) as response:
        status, text = response.status, response.read().decode()
except urllib.error.HTTPError as exc:
    status, text = exc.code, exc.read().decode(errors="replace")
except (OSError, urllib.error.URLError) as exc:
    print(f"{a.method} {a.url}: {exc}", file=sys.stderr)
    sys.exit(2)
if status != a.expect:
    print(f"{a.method} {a.url}: HTTP {status}, expected {a.expect}: {text[:500]}", file=sys.stderr)
    sys.exit(1)
print(text)
PY
# json_get EXPR: evaluate a Python expression over the JSON document `d` read from stdin.
json_get() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
req() { python3 "$http" "$@"; }

# --- the image ----------------------------------------------------------------------------
from=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
[[ $from == python:* ]] || fail "the Dockerfile's base is '$from', expected python:<tag>"
step "base image docker.io/library/${from} (local stand-in)"
bash scripts/container_base.sh "${from#python:}"

step "podman build -t $image (log: $logs/build.log)"
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
if ! podman build --pull=never --isolation chroot --format docker -t "$image" . \
    >"$logs/build.log" 2>&1; then
    tail -n 60 "$logs/build.log" >&2
    fail "podman build"
fi
current=$(podman image inspect --format '{{.Id}}' "$image")
if [[ -n $previous && $previous != "$current" ]]; then  # the last run's image, now untagged
    podman rmi "$previous" >/dev/null 2>&1 || true
fi
ok "built ${current:0:12}, $(($(podman image inspect --format '{{.Size}}' "$image") / 1000000)) MB"

step "image configuration"
user=$(podman image inspect --format '{{.Config.User}}' "$image")
[[ $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "USER is '$user', not a numeric non-root user"
ok "USER $user"
[[ $(podman image inspect --format '{{json .Config.ExposedPorts}}' "$image") == *'"8000/tcp"'* ]] ||
    fail "port 8000 is not exposed"
ok "EXPOSE 8000"
[[ $(podman image inspect --format '{{json .Config.Volumes}}' "$image") == *'"/data"'* ]] ||
    fail "/data is not a volume"
ok "VOLUME /data"
# The project is installed as a wheel: migrations/ and data/sample/ travel inside the package.
layout=$(pod run --rm "${run_options[@]}" --entrypoint python "$image" -c '
import sys
import app
from app.config import MIGRATIONS_DIR, Settings
s = Settings()
print(app.__file__, s.data_dir, sys.version.split()[0])
sys.exit(not (MIGRATIONS_DIR.is_dir() and s.sample_dir.is_dir()))') ||
    fail "the migrations or the sample are missing from the installed package: $layout"
read -r package data_dir python_version <<<"$layout"
ok "app imported from $package (its migrations and sample inside), data in $data_dir, Python $python_version"

step "without NEWSDESK_API_KEYS the server refuses to listen on 0.0.0.0"
if timeout 120 podman run --name newsdesk-smoke-nokey "${run_options[@]}" "$image" \
    >"$logs/nokey.log" 2>&1; then
    fail "the container served without keys (log: $logs/nokey.log)"
fi
grep -q "refusing to serve on 0.0.0.0" "$logs/nokey.log" ||
    { cat "$logs/nokey.log" >&2; fail "no refusal message"; }
ok "$(grep -o 'refusing to serve on 0.0.0.0[^.]*' "$logs/nokey.log")"
pod rm --force --volumes newsdesk-smoke-nokey >/dev/null

# --- run, write, kill, run again ----------------------------------------------------------
key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
word=smoke$(python3 -c 'import random, string; print("".join(random.choices(string.ascii_lowercase, k=10)))')
podman volume create "$volume" >/dev/null

# start NAME: run the image detached on the volume; sets $base to its URL.
start() {
    local name=$1 port
    if [[ $network == publish ]]; then
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if pod run -d --name "$name" "${run_options[@]}" -p "127.0.0.1:$port:8000" \
            -e NEWSDESK_API_KEYS="$key" -v "$volume:/data" "$image" >/dev/null; then
            base=http://127.0.0.1:$port
            return
        fi
        echo "    publishing a port failed: trying --network host" >&2
        podman rm --force --volumes "$name" >/dev/null 2>&1 || true
        network=host
    fi
    python3 -c 'import socket; socket.create_server(("0.0.0.0", 8000)).close()' 2>/dev/null ||
        fail "--network host needs port 8000 free on the host"
    pod run -d --name "$name" "${run_options[@]}" --network host \
        -e NEWSDESK_API_KEYS="$key" -v "$volume:/data" "$image" >/dev/null || fail "podman run $name"
    base=http://127.0.0.1:8000
}

# wait_up NAME: until /health answers "ok", while the container keeps running.
wait_up() {
    local name=$1 deadline=$((SECONDS + 180)) body
    while :; do
        [[ $(podman inspect --format '{{.State.Running}}' "$name") == true ]] ||
            fail "container $name stopped"
        if body=$(req GET "$base/health" --timeout 3 2>"$logs/health.err") &&
            [[ $(json_get 'd["status"]' <<<"$body") == ok ]]; then
            break
        fi
        ((SECONDS < deadline)) ||
            fail "/health of $name not ok after 180 s: ${body:-$(cat "$logs/health.err")}"
        sleep 1
    done
    ok "/health: $body"
}

# find_word ID: search for the word until the article is a hit (the index may be catching up).
find_word() {
    local id=$1 started=$SECONDS deadline=$((SECONDS + 60)) body
    while :; do
        body=$(req GET "$base/v1/search?q=$word")
        if [[ $(json_get "$id in [h['id'] for h in d['hits']]" <<<"$body") == True ]]; then
            break
        fi
        ((SECONDS < deadline)) || fail "search for $word does not find article $id: $body"
        sleep 1
    done
    ok "search q=$word: total $(json_get 'd["total"]' <<<"$body"), article $id is a hit" \
        "(after $((SECONDS - started)) s)"
}

step "run newsdesk-smoke-1 (write key, volume $volume on /data, network: $network)"
start newsdesk-smoke-1
ok "$base"
wait_up newsdesk-smoke-1
uid=$(podman exec newsdesk-smoke-1 id -u)
[[ $uid != 0 ]] || fail "the server runs as root"
ok "the server runs as uid $uid; /data: $(podman exec newsdesk-smoke-1 stat -c '%u:%g %A' /data)"

step "GET /docs"
req GET "$base/docs" >/dev/null
ok "/docs answers 200"

step "HEALTHCHECK"
hc=$(podman container inspect --format '{{json .Config.Healthcheck}}' newsdesk-smoke-1)
[[ $hc == *'/health'* ]] || fail "the container has no HEALTHCHECK on /health: $hc"
ok "declared: $hc"
# podman schedules healthchecks with systemd timers, absent here: run the check by hand.
deadline=$((SECONDS + 60))
until pod healthcheck run newsdesk-smoke-1 >/dev/null; do
    ((SECONDS < deadline)) || fail "podman healthcheck run: still unhealthy after 60 s"
    sleep 2
done
status=$(podman inspect --format '{{.State.Health.Status}}' newsdesk-smoke-1 2>/dev/null ||
    podman inspect --format '{{.State.Healthcheck.Status}}' newsdesk-smoke-1)
[[ $status == healthy ]] || fail "health status is '$status'"
ok "podman healthcheck run: healthy (State.Health.Status=$status)"

step "write one article with a unique word ($word) and find it"
article=$logs/article.json
cat >"$article" <<JSON
[{"title": "Essai du conteneur $word",
  "body": "Le mot $word n'apparaît que dans cet article, écrit par le test du conteneur.",
  "published_at": "2024-05-01", "language": "fr", "source": "container smoke"}]
JSON
req POST "$base/v1/articles/bulk?refresh=wait" --data "$article" --expect 401 >/dev/null
ok "without the key: 401"
body=$(req POST "$base/v1/articles/bulk?refresh=wait" --data "$article" --key "$key")
id=$(json_get 'd["results"][0]["id"]' <<<"$body")
[[ $(json_get 'd["results"][0]["status"]' <<<"$body") =~ ^(created|unchanged)$ && $id =~ ^[0-9]+$ ]] ||
    fail "bulk write: $body"
ok "bulk: $(json_get 'd["results"][0]["status"]' <<<"$body") id $id"
find_word "$id"

step "kill -9 newsdesk-smoke-1, then run newsdesk-smoke-2 on the same volume"
pod kill --signal KILL newsdesk-smoke-1 >/dev/null
podman wait newsdesk-smoke-1 >/dev/null 2>&1 || true
ok "killed: $(podman inspect --format '{{.State.Status}} exit={{.State.ExitCode}}' newsdesk-smoke-1)"
pod rm --force newsdesk-smoke-1 >/dev/null
start newsdesk-smoke-2
ok "$base"
wait_up newsdesk-smoke-2

step "the article survived"
body=$(req GET "$base/v1/articles/$id")
[[ $(json_get 'd["title"]' <<<"$body") == "Essai du conteneur $word" ]] || fail "GET /v1/articles/$id: $body"
ok "GET /v1/articles/$id: $(json_get 'd["title"]' <<<"$body")"
find_word "$id"
