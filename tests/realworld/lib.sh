# shellcheck shell=bash
# tests/realworld/lib.sh — sourced by the real-world image scripts
# (tests/realworld/NN_*.sh; `make test-realworld` runs them).
#
# Each script builds one Dockerfile of tests/realworld/images/ FROM the
# debootstrap'd bookworm minbase (tests/bench/scan_rootfs.sh, cached in
# ~/.cache/bosun-test) with `bosun build` and with `buildah bud` (vfs,
# chroot isolation, a storage of its own in the scratch dir), both at once,
# with RUN apt-get install against the Debian archive through
# tests/lib/debproxy.py on 127.0.0.1 (build argument http_proxy: .debs are
# fetched once and kept in ~/.cache/bosun-test/debs). Then:
#   - tree:      tests/lib/treecmp.py compares the two final file trees;
#                tests/realworld/volatile.txt excuses a few paths;
#   - inventory: tests/lib/invcmp.py compares bosun scan's CycloneDX with
#                Trivy's (tests/lib/trivy.sh, pinned) and dpkg-query's
#                on the same docker archive; tests/realworld/exceptions.txt
#                lists the missing packages that are explained.
# BOSUN_RW_SUMMARY=FILE collects the per-ecosystem rows for a summary.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../bench/scan_rootfs.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/trivy.sh"

RW_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RW_DEBS="$_RFS_CACHE/debs"

# rw_setup: the base image, the proxy, buildah's storage, Trivy and an
# empty vulnerability database (the inventory is what is compared). Sets
# T, BASE_OCI, PROXY, BUILDAH (an array), TRIVY, RW_DB; fails (or skips)
# the whole script when a prerequisite is missing.
rw_setup() {
    T=$(tmpdir_new realworld)
    export XDG_CACHE_HOME="$T/xdg"
    local why
    if ! BASE_OCI=$(rootfs_bookworm_oci 2>"$T/why"); then
        skip "real-world images" "no bookworm minbase: $(cat "$T/why")"; finish
    fi
    for why in buildah skopeo npm dpkg-query; do
        command -v "$why" >/dev/null || { skip "real-world images" "$why is not installed"; finish; }
    done
    if ! TRIVY=$(trivy_bin); then skip "real-world images" "trivy: $TRIVY"; finish; fi

    "$PYTHON" "$TESTLIB/debproxy.py" "$T/proxy.port" "$RW_DEBS" "$T/proxy-run" 2>"$T/proxy.log" &
    local ppid=$! i
    at_exit "kill_wait $ppid"
    for ((i = 0; i < 100; i++)); do [ -f "$T/proxy.port" ] && break; sleep 0.1; done
    [ -f "$T/proxy.port" ] || { fail "start the caching proxy" "$(cat "$T/proxy.log")"; finish; }
    PROXY="http://127.0.0.1:$(cat "$T/proxy.port")"

    BUILDAH=(buildah --root "$T/buildah/root" --runroot "$T/buildah/run" --storage-driver vfs)
    # skopeo names the image in buildah's storage (buildah's own pull would
    # derive a name from the layout's path, which ~/.cache makes invalid)
    if ! skopeo copy -q "oci:$BASE_OCI:12" \
        "containers-storage:[vfs@$T/buildah/root+$T/buildah/run]localhost/bosun-rw-minbase:12" >"$T/skopeo.log" 2>&1; then
        fail "the base image into buildah's storage" "$(tail -5 "$T/skopeo.log")"; finish
    fi
    mkdir -p "$T/osv"
    "$BOSUN" db build --osv "$T/osv" -o "$T/empty.db" >/dev/null 2>"$T/db.log" ||
        { fail "an empty vulnerability database" "$(cat "$T/db.log")"; finish; }
    RW_DB="$T/empty.db"
}

# rw_trivy_javadb DIR: an empty Java index database for Trivy. Offline,
# Trivy refuses to look at jars without one; it only uses it to look jars
# without Maven data up by SHA-1 (there are none here, and bosun has no such
# index), so Trivy's Java packages come from the jars' own META-INF/maven
# data, as bosun's do. The schema is trivy-java-db's (schema version 1).
rw_trivy_javadb() {
    mkdir -p "$1"
    "$PYTHON" - "$1" <<'PY'
import datetime, json, os, sqlite3, sys
d = sys.argv[1]
c = sqlite3.connect(os.path.join(d, "trivy-java.db"))
c.executescript("""
CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,
                     FOREIGN KEY (artifact_id) REFERENCES artifacts(id));
CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
CREATE INDEX indices_artifact_idx ON indices(artifact_id);
CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);
""")
c.commit()
now = datetime.datetime.now(datetime.timezone.utc)
fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
json.dump({"Version": 1, "NextUpdate": fmt(now + datetime.timedelta(days=3650)), "UpdatedAt": fmt(now),
           "DownloadedAt": fmt(now)}, open(os.path.join(d, "metadata.json"), "w"))
PY
}

# rw_image NAME CONTEXT: both builds, the tree comparison and the
# inventory comparison of tests/realworld/images/NAME built from CONTEXT.
rw_image() {
    local name=$1 ctx=$2 t0 rc_b rc_h bpid
    local d="$T/$name" ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
    mkdir -p "$d"
    t0=$(date +%s)
    nice -n 10 "${BUILDAH[@]}" bud --isolation chroot --build-arg BASE=localhost/bosun-rw-minbase:12 \
        --build-arg "http_proxy=$PROXY" --secret "id=cacerts,src=$ca" -t "rw-$name" "$ctx" >"$d/buildah.log" 2>&1 &
    bpid=$!
    nice -n 10 "$BOSUN" build --build-arg "BASE=oci:$BASE_OCI:12" --build-arg "http_proxy=$PROXY" \
        --secret "id=cacerts,src=$ca" \
        --output "oci:$d/bosun:1" "$ctx" >"$d/bosun.log" 2>&1 && rc_b=0 || rc_b=$?
    wait "$bpid" && rc_h=0 || rc_h=$?
    diag "$name: both builds took $(($(date +%s) - t0)) s"
    if [ "$rc_b" -ne 0 ]; then
        fail "$name: bosun build" "exit $rc_b" "$(tail -n 15 "$d/bosun.log")"; return 0
    fi
    ok "$name: bosun build"
    if [ "$rc_h" -ne 0 ]; then
        fail "$name: buildah bud (the oracle)" "exit $rc_h" "$(tail -n 15 "$d/buildah.log")"; return 0
    fi
    if ! "${BUILDAH[@]}" push -q "rw-$name" "oci:$d/buildah:1" >"$d/push.log" 2>&1; then
        fail "$name: buildah push oci:" "$(tail -n 5 "$d/push.log")"; return 0
    fi
    "${BUILDAH[@]}" rmi -f "rw-$name" >/dev/null 2>&1 || true

    # the archive both scanners read
    check "$name: bosun copy to docker-archive" "$BOSUN" -q copy "oci:$d/bosun:1" "docker-archive:$d/image.tar"
    rw_trivy_javadb "$d/trivy-cache/java-db"
    nice -n 10 "$TRIVY" image --input "$d/image.tar" --format cyclonedx --offline-scan --skip-db-update \
        --skip-java-db-update -q --cache-dir "$d/trivy-cache" -o "$d/trivy.cdx" >"$d/trivy.log" 2>&1 &
    local tpid=$! rc_t
    # file trees
    if "$PYTHON" "$TESTLIB/treecmp.py" diff --volatile "$RW_DIR/volatile.txt" --tree-a "$d/tree.txt" \
        "$d/bosun" 1 "$d/buildah" 1 >"$d/treecmp.txt" 2>&1; then
        ok "$name: file tree equal to buildah's ($(tail -1 "$d/treecmp.txt" | sed 's/^# //'))"
    else
        fail "$name: file tree differs from buildah's (A = bosun, B = buildah)" "$(head -n 60 "$d/treecmp.txt")"
    fi
    grep '^excused' "$d/treecmp.txt" | sed 's/^/# /'
    # inventories
    check "$name: bosun scan" "$BOSUN" scan --db "$RW_DB" --db-max-age 0 --no-cache --format cyclonedx \
        -o "$d/bosun.cdx" --format json -o "$d/bosun.json" "docker-archive:$d/image.tar"
    rm -rf "$d/root"
    if "$PYTHON" "$TESTLIB/treecmp.py" extract "$d/bosun" 1 var/lib/dpkg "$d/root" 2>"$d/dpkg.err" &&
        dpkg-query --admindir="$d/root/var/lib/dpkg" -W -f '${db:Status-Abbrev}|${Package}|${Version}\n' \
            >"$d/dpkg.txt" 2>>"$d/dpkg.err" && [ -s "$d/dpkg.txt" ]; then
        ok "$name: dpkg-query on the image's dpkg database"
    else
        fail "$name: dpkg-query" "$(cat "$d/dpkg.err")"; : >"$d/dpkg.txt"
    fi
    wait "$tpid" && rc_t=0 || rc_t=$?
    if [ "$rc_t" -ne 0 ] || [ ! -s "$d/trivy.cdx" ]; then
        fail "$name: trivy image (the oracle)" "exit $rc_t" "$(tail -n 10 "$d/trivy.log")"; return 0
    fi
    if "$PYTHON" "$TESTLIB/invcmp.py" "$name" "$d/bosun.cdx" "$d/trivy.cdx" "$d/dpkg.txt" \
        "$RW_DIR/exceptions.txt" "${BOSUN_RW_SUMMARY:-/dev/null}" >"$d/invcmp.txt" 2>&1; then
        ok "$name: every package Trivy and dpkg-query list is in bosun's inventory"
    else
        fail "$name: packages missing from bosun's inventory" "$(grep -v '^  extra' "$d/invcmp.txt" | head -n 60)"
    fi
    sed 's/^/# /' "$d/invcmp.txt"
    diag "$name: done in $(($(date +%s) - t0)) s"
}

# rw_tree_has NAME WHAT ERE: bosun's final tree of image NAME (the lines of
# `treecmp.py tree`: path, type, mode, uid, gid, size, sha256, link, xattrs,
# other names of the same file, tab-separated) has a line matching ERE. It
# shows the image really holds what it is meant to cover, so the comparison
# with buildah is not vacuous.
rw_tree_has() {
    if [ -s "$T/$1/tree.txt" ] && grep -qE -- "$3" "$T/$1/tree.txt"; then ok "$1: $2"; else fail "$1: $2" "no line matches /$3/"; fi
}

# rw_layer_has NAME WHAT PATH: one of the layers bosun wrote for image NAME
# has an entry named PATH (e.g. a whiteout or an opaque marker).
rw_layer_has() {
    if "$PYTHON" - "$T/$1/bosun" "$3" <<'PY'; then ok "$1: $2"; else fail "$1: $2" "no layer entry $3"; fi
import os, sys
sys.path.insert(0, os.environ["TESTLIB"])
from oci_tree import blob, manifest_for, open_layer, norm
want = os.fsencode(sys.argv[2])
for l in manifest_for(sys.argv[1], "1")["layers"][1:]:
    with open_layer(blob(sys.argv[1], l["digest"])) as tf:
        if any(norm(m.name) == want for m in tf):
            sys.exit(0)
sys.exit(1)
PY
}
