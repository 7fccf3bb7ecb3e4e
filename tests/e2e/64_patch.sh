#!/usr/bin/env bash
# bosun patch: the command line and the failure cases that need no package
# archive (tests/realworld/40_patch.sh patches real images against the
# Debian archive). Every failure is one line with its exit code, and nothing
# is pushed: usage errors (2); a missing image (3) or a registry that is
# down (4); an image with no OS packages, an unknown distribution, Alpine
# (not supported yet), a damaged dpkg database, a hostile --report (3); an
# archive that cannot be reached (4, nothing pushed); nothing to patch (0,
# the destination gets the image unchanged).
set -u
. "$(dirname "$0")/../lib/common.sh"
. "$TESTLIB/registry.sh"
. "$(dirname "$0")/../bench/scan_rootfs.sh"
T=$(tmpdir_new patch)
registry_start_open
# bosun's work directories go here, so the last check sees only this suite's
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp"

# usage
expect_exit 0 "patch --help" "$BOSUN" patch --help
expect_out "help names the modes" "--report FILE"
expect_exit 2 "patch without SRC" "$BOSUN" patch -t "$REG/x:1"
expect_exit 2 "patch without a destination" "$BOSUN" patch --all "$REG/x:1"
expect_out "it says what is missing" "give at least one -t DEST or --output DEST"
expect_exit 2 "--all and --only together" "$BOSUN" patch --all --only zlib1g -t "$REG/x:1" "$REG/x:1"
expect_exit 2 "--only with something that is not a package name" "$BOSUN" patch --only 'zlib1g,-oAPT::x=1' -t "$REG/x:1" "$REG/x:1"
expect_out "the bad name is named" '"-oAPT::x=1" is not a package name'
expect_exit 2 "a --package-mirror that is not a URL" "$BOSUN" patch --only zlib1g --package-mirror 'ftp://x y' \
    -t "$REG/x:1" "oci:$T/none:1"
expect_exit 2 "an unknown option" "$BOSUN" patch --bogus "$REG/x:1"
expect_exit 3 "a missing image" "$BOSUN" patch --all -t "$REG/x:1" "oci:$T/none:1"
[ "$(grep -c . <<<"$OUT")" -le 2 ] && ok "a missing image: a short error" || fail "a missing image: output" "$OUT"
DOWN=$(free_port)
expect_exit 4 "a registry that is down" "$BOSUN" patch --all --retries 0 -t "$REG/x:1" "127.0.0.1:$DOWN/app:1"

# images that cannot be patched, made here: LAYOUT TAG FILE=CONTENT...
mkimg() {
    "$PYTHON" - "$@" <<'PY'
import hashlib, io, json, os, sys, tarfile
d, tag = sys.argv[1], sys.argv[2]
b = os.path.join(d, "blobs", "sha256"); os.makedirs(b, exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tf:
    for a in sys.argv[3:]:
        name, data = a.split("=", 1)
        data = data.encode().decode("unicode_escape").encode("latin-1")
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644
        tf.addfile(ti, io.BytesIO(data))
raw = buf.getvalue()
ld, ls = put(raw)
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType":
    "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
PY
}
DEB_OS='etc/os-release=ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
mkimg "$T/empty" 1 "app/hello=hello\n"
mkimg "$T/nopkgs" 1 "$DEB_OS" "app/hello=hello\n"
mkimg "$T/plan9" 1 'etc/os-release=ID=plan9\nVERSION_ID=4\n' "var/lib/dpkg/status=Package: a\nStatus: install ok installed\nVersion: 1\n"
mkimg "$T/alpine" 1 'etc/os-release=ID=alpine\nVERSION_ID=3.19.1\n' "lib/apk/db/installed=P:musl\nV:1.2.4-r2\n"
mkimg "$T/broken" 1 "$DEB_OS" "var/lib/dpkg/status=Status: install ok installed\nVersion: 1\n\nPackage: b\n" \
    "usr/bin/apt-get=x" "usr/bin/dpkg=x" "bin/sh=x"
mkimg "$T/dlnotool" 1 "$DEB_OS" "var/lib/dpkg/status.d/zlib1g=Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\n"
cases=(
    "empty|no /etc/os-release"
    "nopkgs|no OS packages in the image"
    "plan9|unknown distribution \"plan9\""
    "alpine|Alpine \\(apk\\) images are not supported yet"
    "broken|entry 1 has no Package: the package database is damaged"
)
for c in "${cases[@]}"; do
    img=${c%%|*} why=${c#*|}
    expect_exit 3 "$img: exit 3" "$BOSUN" patch --all -t "$REG/$img:patched" "oci:$T/$img:1"
    expect_out "$img: $why" "$why"
    [ "$(grep -c . <<<"$OUT")" -le 2 ] && ok "$img: the progress line and one error line" || fail "$img: output" "$OUT"
done
# distroless without a reachable tooling image: the tool image is named
expect_exit 3 "distroless, tooling image missing: exit 3" "$BOSUN" patch --all --tool-image "oci:$T/none:1" \
    -t "$REG/dl:patched" "oci:$T/dlnotool:1"
expect_out "distroless: the --tool-image is named" "--tool-image oci:$T/none:1"
for img in empty nopkgs plan9 alpine broken dl; do
    skopeo inspect --tls-verify=false "docker://$REG/$img:patched" >/dev/null 2>&1 &&
        fail "$img: nothing pushed" "the registry has $img:patched" || ok "$img: nothing pushed"
done

# a real Debian root: archives that cannot be reached, a hostile report,
# nothing to patch
if ! BASE_OCI=$(rootfs_bookworm_oci 2>"$T/why"); then
    skip "patch of the bookworm minbase" "no minbase: $(cat "$T/why")"; finish
fi
expect_exit 4 "archives that cannot be reached: exit 4" "$BOSUN" patch --only zlib1g \
    --package-mirror "http://127.0.0.1:$DOWN/debian-security" --package-mirror "main=http://127.0.0.1:$DOWN/debian" \
    -t "$REG/minbase:unreachable" "oci:$BASE_OCI:12"
expect_out "the message says the archive could not be reached" "apt-get update failed \(a package archive could not be reached\)"
skopeo inspect --tls-verify=false "docker://$REG/minbase:unreachable" >/dev/null 2>&1 &&
    fail "unreachable archive: nothing pushed" "the tag exists" || ok "unreachable archive: nothing pushed"

mkdir -p "$T/osv"
check "an empty database" "$BOSUN" -q db build --osv "$T/osv" -o "$T/empty.db"
expect_exit 0 "nothing to patch: exit 0" "$BOSUN" patch --db "$T/empty.db" --db-max-age 0 -t "$REG/minbase:same" "oci:$BASE_OCI:12"
expect_out "the log says so" "nothing to patch"
SRCDIG="sha256:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$BASE_OCI/index.json")"
DST="sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REG/minbase:same" 2>/dev/null | sha256sum | cut -d' ' -f1)"
[ "$DST" = "$SRCDIG" ] && grep -q "$SRCDIG" <<<"$OUT" && ok "nothing to patch: the destination gets the image unchanged" ||
    fail "nothing to patch: destination" "$DST vs $SRCDIG"

# --report: hostile and mismatched reports are refused before any work
printf '{"schema":"bosun.scan.v1","os":{"ecosystem":"Debian:12"},"findings":[{"package":"-oAPT::Get::x=1","fixed_version":"2","ecosystem":"Debian:12","reported":true}]}' >"$T/hostile.json"
expect_exit 3 "--report with a hostile package name" "$BOSUN" patch --report "$T/hostile.json" -t "$REG/h:1" "oci:$BASE_OCI:12"
expect_out "the name is refused" "is not a package name"
printf '{"schema":"bosun.scan.v1","digest":"sha256:%064d","os":{"ecosystem":"Debian:12"},"findings":[]}' 0 >"$T/other.json"
expect_exit 3 "--report of another image" "$BOSUN" patch --report "$T/other.json" -t "$REG/h:1" "oci:$BASE_OCI:12"
expect_out "the report's image is named" "is the report of sha256:0000"
echo '{"bomFormat":"CycloneDX"}' >"$T/cdx.json"
expect_exit 3 "--report that is not bosun's JSON" "$BOSUN" patch --report "$T/cdx.json" -t "$REG/h:1" "oci:$BASE_OCI:12"
expect_exit 3 "--report that does not exist" "$BOSUN" patch --report "$T/nope.json" -t "$REG/h:1" "oci:$BASE_OCI:12"
skopeo inspect --tls-verify=false "docker://$REG/h:1" >/dev/null 2>&1 && fail "hostile reports: nothing pushed" "h:1 exists" ||
    ok "hostile reports: nothing pushed"
# work directories are removed
left=$(find "$T/tmp" -maxdepth 1 -name 'bosun-patch-*' 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && ok "no work directory left behind" || fail "work directories left" "$left"
finish
