#!/usr/bin/env bash
# bosun patch on real data (issue 14). The image: the debootstrap'd bookworm
# minbase from the release archive plus an app layer (apt-get install from
# the release archive alone: tests/realworld/images/patch). The vulnerability
# data: made here from the Debian security archive by tests/lib/debsec.py
# (the packages `apt-get -s upgrade` would take from bookworm-security, their
# .debs, the CVEs each security version's changelog names in its top entry,
# as OSV records). Then:
#   - the scan of the unpatched image finds every one of them;
#   - bosun patch: the rescan has none; dpkg-query run in the image under
#     buildah shows the security versions; the original layers are untouched
#     and exactly one layer was added; skopeo reads the pushed image;
#   - patching the patched image (--all) still leaves one patch layer;
#   - SOURCE_DATE_EPOCH: two patches give the same digest;
#   - a distroless-style image of the same root (no apt and dpkg binaries,
#     status split into status.d/) is patched from a tooling root;
#   - ship --patch ships the patched image with a patch attestation that
#     verify --attestation finds; the reports show both scans;
#   - base check: once the base moves, the patched image is stale.
set -u
. "$(dirname "$0")/lib.sh"
. "$TESTLIB/registry.sh"
rw_setup
registry_start_open
P=(env "http_proxy=$PROXY" "no_proxy=127.0.0.1,localhost")
IMG="$RW_DIR/images/patch"

py_layers() { # LAYOUT TAG: the layer digests, one a line
    "$PYTHON" - "$1" "$2" <<'PY'
import os, sys
sys.path.insert(0, os.environ["TESTLIB"])
from oci_tree import manifest_for
for l in manifest_for(sys.argv[1], sys.argv[2])["layers"]:
    print(l["digest"])
PY
}

# the base in the registry (base check asks it later), the app built on it
check "the bookworm minbase into the registry" "$BOSUN" -q copy "oci:$BASE_OCI:12" "$REG/minbase:12"
t0=$(date +%s)
check "bosun build of the app image (release archive only)" "$BOSUN" -q build --build-arg "BASE=$REG/minbase:12" \
    --build-arg "http_proxy=$PROXY" -t "$REG/app:1" --push --output "oci:$T/app:1" "$IMG"
diag "app image built in $(($(date +%s) - t0)) s"

# real vulnerability data from the security archive
rm -rf "$T/approot"
"$PYTHON" "$TESTLIB/treecmp.py" extract "$T/app" 1 var/lib/dpkg "$T/approot" 2>"$T/extract.err" ||
    { fail "the app's dpkg database" "$(cat "$T/extract.err")"; finish; }
if ! "$PYTHON" "$TESTLIB/debsec.py" "$T/approot/var/lib/dpkg/status" "$T/sec" "$PROXY" >"$T/debsec.out" 2>&1; then
    fail "vulnerability data from bookworm-security" "$(tail -5 "$T/debsec.out")"; finish
fi
ok "vulnerability data from bookworm-security: $(cat "$T/debsec.out")"
sed 's/^/# /' "$T/sec/expected.tsv" | cut -c1-200
check "bosun db build of the OSV records" "$BOSUN" -q db build --osv "$T/sec/osv" -o "$T/v.db"
DB=(--db "$T/v.db" --db-max-age 0)
N_CVE_PKGS=$(awk -F'\t' '$5 != ""' "$T/sec/expected.tsv" | wc -l)
[ "$N_CVE_PKGS" -gt 0 ] && ok "$N_CVE_PKGS installed packages have CVEs fixed in bookworm-security" ||
    fail "no installed package has a CVE fixed in bookworm-security" "$(cat "$T/sec/expected.tsv")"

# expected_findings SCAN_JSON present|absent: every (CVE, package) of
# expected.tsv is (or none is) among the scan's findings
expected_findings() {
    "$PYTHON" - "$T/sec/expected.tsv" "$1" "$2" <<'PY'
import json, sys
exp = set()
for l in open(sys.argv[1]):
    name, old, new, src, cves = l.rstrip("\n").split("\t")
    exp |= {(c, name) for c in cves.split(",") if c}
got = {(f["id"], f["package"]) for f in json.load(open(sys.argv[2]))["findings"]}
bad = sorted(exp - got) if sys.argv[3] == "present" else sorted(exp & got)
print("%d expected, %d %s" % (len(exp), len(bad), "missing" if sys.argv[3] == "present" else "still found"))
for b in bad[:20]:
    print("  %s in %s" % b)
sys.exit(1 if bad or not exp else 0)
PY
}
check "scan of the unpatched image" "$BOSUN" scan "${DB[@]}" --no-cache --format json -o "$T/s0.json" "$REG/app:1"
OUT=$(expected_findings "$T/s0.json" present 2>&1) && ok "the scan finds every CVE of the security archive ($OUT)" ||
    fail "the scan misses CVEs of the security archive" "$OUT"

# the patch, pushed
t0=$(date +%s)
expect_exit 0 "bosun patch --db (pushed and to an OCI layout)" "${P[@]}" "$BOSUN" patch "${DB[@]}" \
    -t "$REG/app:1-patched" --output "oci:$T/p1:1" "$REG/app:1"
diag "patch took $(($(date +%s) - t0)) s"
PDIG=$(grep -E '^sha256:[0-9a-f]{64}$' <<<"$OUT" | tail -1)
REGDIG="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REG/app:1-patched" 2>/dev/null | sha256sum | cut -d' ' -f1)"
[ -n "$PDIG" ] && [ "$PDIG" = "$REGDIG" ] && ok "the digest on stdout is the pushed manifest's ($PDIG)" ||
    fail "digest on stdout vs registry" "stdout: $PDIG" "registry: $REGDIG"
check "skopeo reads the pushed image" skopeo inspect --tls-verify=false "docker://$REG/app:1-patched"
check "scan of the patched image" "$BOSUN" scan "${DB[@]}" --no-cache --format json -o "$T/s1.json" "$REG/app:1-patched"
OUT=$(expected_findings "$T/s1.json" absent 2>&1) && ok "the rescan has none of them ($OUT)" ||
    fail "the patched image still has fixed CVEs" "$OUT"
py_layers "$T/app" 1 >"$T/l0"; py_layers "$T/p1" 1 >"$T/l1"
if [ "$(wc -l <"$T/l1")" -eq $(($(wc -l <"$T/l0") + 1)) ] && [ "$(head -n "$(wc -l <"$T/l0")" "$T/l1")" = "$(cat "$T/l0")" ]; then
    ok "the original $(wc -l <"$T/l0") layers untouched, exactly one layer added"
else
    fail "layers" "before: $(tr '\n' ' ' <"$T/l0")" "after: $(tr '\n' ' ' <"$T/l1")"
fi

# dpkg-query in the patched image, run by buildah
bud_dpkg() { # LAYOUT TAG NAME: dpkg-query's list in the image, run under buildah
    local ctr
    skopeo copy -q "oci:$1:$2" "containers-storage:[vfs@$T/buildah/root+$T/buildah/run]localhost/$3:1" >/dev/null 2>&1 || return 1
    ctr=$("${BUILDAH[@]}" from -q "localhost/$3:1") || return 1
    "${BUILDAH[@]}" run --isolation chroot "$ctr" -- dpkg-query -W -f '${Package}\t${Version}\n'
    local rc=$?
    "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1
    return $rc
}
# security_versions DPKG_LIST [all]: every package of expected.tsv with CVEs
# (every package with "all") has its security version
security_versions() {
    "$PYTHON" - "$T/sec/expected.tsv" "$1" "${2:-cves}" <<'PY'
import sys
have = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2]) if "\t" in l)
bad = []
n = 0
for l in open(sys.argv[1]):
    name, old, new, src, cves = l.rstrip("\n").split("\t")
    if sys.argv[3] == "cves" and not cves:
        continue
    n += 1
    if have.get(name) != new:
        bad.append("%s: %s, want %s" % (name, have.get(name), new))
print("%d packages checked" % n, *bad, sep="\n  ")
sys.exit(1 if bad or n == 0 else 0)
PY
}
if bud_dpkg "$T/p1" 1 rw-p1 >"$T/dpkg1.txt" 2>"$T/dpkg1.err"; then
    ok "buildah runs the patched image (dpkg-query: $(wc -l <"$T/dpkg1.txt") packages)"
    OUT=$(security_versions "$T/dpkg1.txt" 2>&1) && ok "every patched package has the security version ($OUT)" ||
        fail "packages without their security version" "$OUT"
else
    fail "buildah run of the patched image" "$(tail -5 "$T/dpkg1.err")"
fi
"$PYTHON" - "$T/p1" "$T/sec/expected.tsv" <<'PY' && ok "annotations name each package changed and the patch layer" || fail "annotations" "see above"
import json, os, sys
sys.path.insert(0, os.environ["TESTLIB"])
from oci_tree import manifest_for
m = manifest_for(sys.argv[1], "1")
a = m["annotations"]
pk = {p["name"]: (p["from"], p["to"]) for p in json.loads(a["dev.bosun.patch.packages"])}
exp = {l.split("\t")[0]: (l.split("\t")[1], l.split("\t")[2]) for l in open(sys.argv[2]) if l.rstrip("\n").split("\t")[4]}
missing = {k: v for k, v in exp.items() if pk.get(k) != v}
print("# packages in the annotation:", len(pk), "missing or wrong:", missing)
sys.exit(1 if missing or a.get("dev.bosun.patch.layer") != m["layers"][-1]["digest"] or "dev.bosun.patch.created" not in a
         or a.get("org.opencontainers.image.base.name") is None else 0)
PY

# patch the patched image: still one patch layer
expect_exit 0 "bosun patch --all of the patched image" "${P[@]}" "$BOSUN" patch --all --output "oci:$T/p2:1" "oci:$T/p1:1"
expect_out "the previous patch layer is replaced" "previous patch layer replaced"
py_layers "$T/p2" 1 >"$T/l2"
if [ "$(wc -l <"$T/l2")" -eq "$(wc -l <"$T/l1")" ] && [ "$(head -n "$(wc -l <"$T/l0")" "$T/l2")" = "$(cat "$T/l0")" ] &&
    [ "$(tail -1 "$T/l2")" != "$(tail -1 "$T/l1")" ]; then
    ok "after a second patch: the original layers and one (new) patch layer"
else
    fail "layers after the second patch" "$(tr '\n' ' ' <"$T/l2")"
fi
if bud_dpkg "$T/p2" 1 rw-p2 >"$T/dpkg2.txt" 2>"$T/dpkg2.err"; then
    OUT=$(security_versions "$T/dpkg2.txt" all 2>&1) && ok "--all: every package bookworm-security has is at its version ($OUT)" ||
        fail "--all left packages behind" "$OUT"
else
    fail "buildah run of the twice-patched image" "$(tail -5 "$T/dpkg2.err")"
fi

# reproducible with SOURCE_DATE_EPOCH
for i in 1 2; do
    SOURCE_DATE_EPOCH=1700000000 "${P[@]}" "$BOSUN" -q patch --only libexpat1,zlib1g --output "oci:$T/r$i:1" "oci:$T/app:1" \
        >"$T/r$i.out" 2>"$T/r$i.err"
done
[ -s "$T/r1.out" ] && cmp -s "$T/r1.out" "$T/r2.out" && ok "SOURCE_DATE_EPOCH: two patches, one digest ($(cat "$T/r1.out"))" ||
    fail "reproducible patch" "$(cat "$T/r1.out" "$T/r2.out" "$T/r1.err" | tail -5)"

# distroless-style: the same root without apt and dpkg, status.d/
check "a distroless-style image of the app" "$PYTHON" "$TESTLIB/distroless.py" "$T/app" 1 "$T/dl" 1
check "scan of the distroless image" "$BOSUN" scan "${DB[@]}" --no-cache --format json -o "$T/d0.json" "oci:$T/dl:1"
OUT=$(expected_findings "$T/d0.json" present 2>&1) && ok "distroless: the scan finds them (status.d) ($OUT)" ||
    fail "distroless: the scan misses CVEs" "$OUT"
expect_exit 0 "bosun patch of the distroless image (tooling root: the minbase)" "${P[@]}" "$BOSUN" patch "${DB[@]}" \
    --tool-image "oci:$BASE_OCI:12" --output "oci:$T/dlp:1" "oci:$T/dl:1"
expect_out "distroless: patched through a tooling root" "tooling root"
check "scan of the patched distroless image" "$BOSUN" scan "${DB[@]}" --no-cache --format json -o "$T/d1.json" "oci:$T/dlp:1"
OUT=$(expected_findings "$T/d1.json" absent 2>&1) && ok "distroless: the rescan has none of them ($OUT)" ||
    fail "distroless: fixed CVEs still found" "$OUT"
"$PYTHON" - "$T/dlp" "$T/sec/expected.tsv" >"$T/dl.txt" 2>&1 <<'PY' && ok "distroless: status.d entries and files of the new versions, resolved through /lib -> usr/lib" || fail "distroless layer" "$(cat "$T/dl.txt")"
import os, sys
sys.path.insert(0, os.environ["TESTLIB"])
from oci_tree import manifest_for, blob, open_layer, norm
m = manifest_for(sys.argv[1], "1")
names = {}
with open_layer(blob(sys.argv[1], m["layers"][-1]["digest"])) as tf:
    for e in tf:
        n = norm(e.name).decode("utf-8", "surrogateescape")
        names[n] = tf.extractfile(e).read() if e.isfile() and "status.d/" in n else b""
bad = [n for n in names if n.split("/")[0] in ("lib", "bin", "sbin", "lib64")]
for l in open(sys.argv[2]):
    name, old, new, src, cves = l.rstrip("\n").split("\t")
    if not cves:
        continue
    st = names.get("var/lib/dpkg/status.d/" + name, b"").decode()
    if ("Version: %s\n" % new) not in st:
        bad.append("status.d/%s: no Version %s" % (name, new))
print(len(names), "entries;", bad)
sys.exit(1 if bad else 0)
PY

# ship --patch: the gate fails on these (unrated: --unknown-as high), the
# patched image ships, signed, with a patch attestation
export COSIGN_PASSWORD=""
"$BOSUN" -q keygen --output-key-prefix "$T/k" >/dev/null 2>&1
mkdir -p "$T/ship"
expect_exit 0 "ship --patch: the patched image passes the gate and ships" "${P[@]}" "$BOSUN" ship "${DB[@]}" \
    --unknown-as high --patch --key "$T/k.key" --attest --report-dir "$T/ship" \
    --build-arg "BASE=$REG/minbase:12" --build-arg "http_proxy=$PROXY" -t "$REG/app:2" "$IMG"
check "verify --attestation patch of the shipped image" "$BOSUN" verify --key "$T/k.pub" --attestation patch "$REG/app:2"
"$PYTHON" - "$T/ship/results.json" <<'PY' && ok "results.json: the patch stage, the packages, both scans" || fail "results.json after ship --patch" "see above"
import json, sys
r = json.load(open(sys.argv[1]))
p = r["patch"]
print("# patch stage:", r["stages"]["patch"], "packages:", len(p["packages"]), "before:", p["before"])
sys.exit(0 if r["stages"]["patch"]["status"] == "passed" and p["packages"] and p["before"]["failing"] > 0
         and r["policy"]["passed"] and not any(f["failing"] for f in r["findings"]) and p["from"] != r["image"]["digest"] else 1)
PY
check "junit.xml of ship --patch is well-formed" xmllint --noout "$T/ship/junit.xml"
OUT=$(cat "$T/ship/junit.xml" "$T/ship/summary.md")
expect_out "junit.xml has the patch suite" '<testsuite name="patch"'
expect_out "summary.md shows what was patched" '### Patched'

# the base moves: the patched image is stale, so the pipeline rebuilds
check "the base is updated" "$BOSUN" -q build --build-arg "BASE=oci:$BASE_OCI:12" -t "$REG/minbase:12" --push \
    "$(mkdir -p "$T/newbase" && printf 'ARG BASE\nFROM ${BASE}\nLABEL rebuilt=1\nCOPY f /etc/bosun-rebuilt\n' >"$T/newbase/Dockerfile" && echo 1 >"$T/newbase/f" && echo "$T/newbase")"
expect_exit 1 "base check --fail-if-stale of the patched image: stale" "$BOSUN" base check --fail-if-stale "$REG/app:1-patched"
expect_out "base check names the base that moved" "stale"
finish
