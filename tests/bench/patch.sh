#!/usr/bin/env bash
# Benchmark: bosun patch against a full rebuild of the same image, in one
# run. Two images FROM the debootstrap'd bookworm minbase, built from the
# release archive alone:
#   (a) tests/realworld/images/patch: minbase + openssl, ca-certificates,
#       libexpat1, libssh2-1, rsync (about 100 packages);
#   (b) the same with python3, perl, git, curl, gcc and make (a few hundred).
# "patch": bosun patch --all (apt-get in the image with bookworm-security);
# "rebuild": bosun build of the same Dockerfile with bookworm-security in its
# sources and an apt-get upgrade, so it ends with the same packages as the
# patched image (the base's packages upgraded too). Both fetch .debs through the
# caching proxy of the real-world suite (tests/lib/debproxy.py), warmed by a
# first run, so the archive's speed does not decide. Prints the median wall
# time of BENCH_RUNS runs (default 3), peak RSS and patch/rebuild.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/bench/scan_rootfs.sh

RUNS="${BENCH_RUNS:-3}"
W="$(tmpdir_new bench-patch)"
cp "$BOSUN" "$W/bosun"
BOSUN="$W/bosun"
BASE_OCI=$(rootfs_bookworm_oci)
"$PYTHON" tests/lib/debproxy.py "$W/proxy.port" "$HOME/.cache/bosun-test/debs" "$W/proxy-run" 2>"$W/proxy.log" &
PPID_=$!
trap 'kill $PPID_ 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 100); do [ -f "$W/proxy.port" ] && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(cat "$W/proxy.port")"
export http_proxy="$PROXY" no_proxy=127.0.0.1,localhost

mk_ctx() { # DIR EXTRA_PACKAGES SECURITY(0|1)
    mkdir -p "$1"
    cp tests/realworld/images/patch/app.sh "$1/"
    {
        printf 'ARG BASE\nFROM ${BASE}\nARG http_proxy\nRUN '
        [ "$3" = 1 ] && printf "echo 'deb http://deb.debian.org/debian-security bookworm-security main' >/etc/apt/sources.list.d/security.list && "
        printf 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl ca-certificates libexpat1 libssh2-1 rsync %s ' "$2"
        [ "$3" = 1 ] && printf '&& DEBIAN_FRONTEND=noninteractive apt-get upgrade -y '
        printf '&& apt-get clean && rm -rf /var/lib/apt/lists/*\n'
        printf 'COPY app.sh /usr/local/bin/app.sh\nCMD ["/usr/local/bin/app.sh"]\n'
    } >"$1/Dockerfile"
}
mk_ctx "$W/a" "" 0
mk_ctx "$W/a-sec" "" 1
mk_ctx "$W/b" "python3 perl git curl gcc make" 0
mk_ctx "$W/b-sec" "python3 perl git curl gcc make" 1

# t CMD...: wall, user, sys seconds and peak KiB of one run, appended to $TIMES
t() { /usr/bin/time -f '%e %U %S %M' -o "$W/one" "$@" >/dev/null 2>"$W/last.err" || { cat "$W/last.err" >&2; return 1; }; cat "$W/one" >>"$TIMES"; }
B=(--build-arg "BASE=oci:$BASE_OCI:12" --build-arg "http_proxy=$PROXY")
mkdir -p "$W/osv"
"$BOSUN" -q db build --osv "$W/osv" -o "$W/empty.db" >/dev/null
for img in a b; do
    echo "building image ($img) once from the release archive..."
    "$BOSUN" -q build "${B[@]}" --output "oci:$W/img-$img:1" "$W/$img" >/dev/null 2>"$W/build.log"
    "$BOSUN" -q build "${B[@]}" --output "oci:$W/warm-$img:1" "$W/$img-sec" >/dev/null 2>>"$W/build.log" # warms the proxy
    n=$("$BOSUN" scan --db "$W/empty.db" --db-max-age 0 --no-cache --format json "oci:$W/img-$img:1" 2>/dev/null |
        "$PYTHON" -c 'import json,sys; print(sum(p["type"] == "deb" for p in json.load(sys.stdin)["packages"]))' || echo "?")
    echo "  image ($img): $n packages"
    for i in $(seq "$RUNS"); do
        TIMES="$W/patch-$img" t "$BOSUN" -q patch --all --output "oci:$W/p-$img-$i:1" "oci:$W/img-$img:1"
        TIMES="$W/rebuild-$img" t "$BOSUN" -q build "${B[@]}" --output "oci:$W/r-$img-$i:1" "$W/$img-sec"
    done
done
"$PYTHON" - "$W" <<'PY'
import statistics, sys
w = sys.argv[1]
def load(n):
    rows = [list(map(float, l.split())) for l in open("%s/%s" % (w, n))]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] + r[2] for r in rows), max(r[3] for r in rows) / 1024
print("\n%-12s %10s %10s %10s %10s %8s" % ("image", "patch s", "rebuild s", "patch cpu", "peak MiB", "ratio"))
for img in ("a", "b"):
    p, r = load("patch-" + img), load("rebuild-" + img)
    print("%-12s %10.1f %10.1f %10.1f %10.0f %8.2f" % (img, p[0], r[0], p[1], p[2], p[0] / r[0]))
PY
