#!/usr/bin/env bash
# bosun build --platform linux/amd64,linux/arm64: one build per platform
# into one OCI image index, RUN for arm64 under qemu-user-static through
# binfmt_misc. The base is made here from Debian's busybox-static .debs for
# amd64 and arm64 (the arm64 one fetched under a private apt configuration,
# tests/lib/debs.sh) as an index of two manifests (tests/lib/debindex.py).
# Oracles: skopeo reads each platform (--override-arch), buildah runs the
# arm64 image under emulation, bosun verify and openssl check what ship
# signed. Also: the build stops before any work, exit 5, nothing pushed,
# without a binfmt handler (BOSUN_BINFMT_DIR, a test-only override, points
# bosun at a directory without one); reproducible index digests; the step
# cache keys on the platform.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/debs.sh"
source "$TESTLIB/binfmt.sh"

W=$(tmpdir_new mplat)
cd "$W" || exit 1
unset TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY BOSUN_KEY_PASSWORD BOSUN_PASSWORD BOSUN_USERNAME \
    BOSUN_BINFMT_DIR
export COSIGN_PASSWORD=mplatpw
export XDG_CACHE_HOME="$W/xdg"
for t in skopeo buildah openssl curl dpkg-deb apt-get; do
    command -v "$t" >/dev/null || { skip "multi-platform builds" "$t is not installed (make deps)"; finish; }
done
jq_() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
SK=(skopeo --override-os linux)

# ---- set-up: qemu registered with binfmt_misc, the two .debs, the base index
if binfmt_setup aarch64 2>binfmt.err; then
    ok "binfmt_misc has qemu-aarch64 enabled with the F flag"
else
    fail "binfmt_misc has qemu-aarch64 enabled with the F flag" "$(cat binfmt.err)"; finish
fi
DEB_AMD64=$(deb_fetch amd64 busybox-static 2>deb.err) && DEB_ARM64=$(deb_fetch arm64 busybox-static 2>>deb.err) ||
    { fail "busybox-static .debs for amd64 and arm64" "$(cat deb.err)"; finish; }
[ "$(dpkg-deb -f "$DEB_ARM64" Architecture)" = arm64 ] && ok "the arm64 .deb is arm64" ||
    fail "the arm64 .deb is arm64" "$DEB_ARM64"
[ -z "$(dpkg --print-foreign-architectures)" ] && ok "the machine's dpkg architectures are untouched" ||
    fail "the machine's dpkg architectures are untouched" "$(dpkg --print-foreign-architectures)"
"$PYTHON" "$TESTLIB/debindex.py" "$W/base" 1 "amd64=$DEB_AMD64" "arm64=$DEB_ARM64" >base.digest ||
    { fail "the two-platform base layout"; finish; }
registry_start_open
check "bosun copies the base index to the registry" "$BOSUN" copy -q "oci:$W/base:1" "$REG/base/bb:1"
[ "$("${SK[@]}" inspect --raw --tls-verify=false "docker://$REG/base/bb:1" | sha256sum | cut -c1-64)" = \
  "$(cut -c8- base.digest)" ] && ok "the registry holds the base index as made" || fail "base index in the registry"

# ---- the application: COPY and a RUN that records where it ran
mkdir -p app
echo hello >app/hello.txt
cat >app/Dockerfile <<EOF
FROM $REG/base/bb:1
ARG TARGETARCH
ARG TARGETPLATFORM
ARG BUILDPLATFORM
COPY hello.txt /hello.txt
RUN echo "\$(uname -m) \$TARGETARCH \$TARGETPLATFORM \$BUILDPLATFORM" >/arch.txt
EOF
export SOURCE_DATE_EPOCH=1700000000
expect_exit 0 "build --platform linux/amd64,linux/arm64 --push" "$BOSUN" build --platform linux/amd64,linux/arm64 \
    -t "$REG/app/mp:1" --push --output "oci:$W/out:1" app
DIG=$(printf '%s\n' "$OUT" | grep -E '^sha256:[0-9a-f]{64}$' | tail -n1)
[ -n "$DIG" ] && ok "the index digest is printed" || fail "the index digest is printed" "$OUT"
"${SK[@]}" inspect --raw --tls-verify=false "docker://$REG/app/mp:1" >index.json
[ "sha256:$(sha256sum <index.json | cut -c1-64)" = "$DIG" ] && ok "the tag names the printed digest" ||
    fail "the tag names the printed digest" "$(cat index.json)"
[ "sha256:$("${SK[@]}" inspect --raw "oci:$W/out:1" | sha256sum | cut -c1-64)" = "$DIG" ] &&
    ok "--output holds the same index" || fail "--output holds the same index"
[ "$(jq_ index.json 'd["mediaType"]')" = application/vnd.oci.image.index.v1+json ] && ok "it is an OCI image index" ||
    fail "it is an OCI image index" "$(cat index.json)"
[ "$(jq_ index.json '" ".join(sorted(m["platform"]["os"]+"/"+m["platform"]["architecture"] for m in d["manifests"]))')" \
  = "linux/amd64 linux/arm64" ] && ok "exactly the two platforms" || fail "exactly the two platforms" "$(cat index.json)"
declare -A MDIG
for a in amd64 arm64; do
    MDIG[$a]=$(jq_ index.json "[m['digest'] for m in d['manifests'] if m['platform']['architecture'] == '$a'][0]")
    "${SK[@]}" --override-arch "$a" inspect --config --tls-verify=false "docker://$REG/app/mp:1" >"cfg-$a.json"
    [ "$(jq_ "cfg-$a.json" 'd["os"]+"/"+d["architecture"]')" = "linux/$a" ] && ok "the $a config says linux/$a" ||
        fail "the $a config says linux/$a" "$(cat "cfg-$a.json")"
    rm -rf "img-$a"
    "${SK[@]}" --override-arch "$a" copy -q --src-tls-verify=false "docker://$REG/app/mp:1" "dir:$W/img-$a" ||
        fail "skopeo copies the $a image"
    [ "sha256:$(sha256sum <"img-$a/manifest.json" | cut -c1-64)" = "${MDIG[$a]}" ] &&
        ok "skopeo --override-arch $a copies the index's $a manifest" || fail "skopeo picks the $a manifest"
    last=$(jq_ "img-$a/manifest.json" 'd["layers"][-1]["digest"][7:]')
    tar xzOf "img-$a/$last" arch.txt >"arch-$a.txt" 2>/dev/null || fail "the $a RUN layer holds arch.txt"
done
[ "$(cat arch-amd64.txt)" = "x86_64 amd64 linux/amd64 linux/amd64" ] && ok "amd64: its own RUN, native" ||
    fail "amd64: its own RUN, native" "$(cat arch-amd64.txt)"
[ "$(cat arch-arm64.txt)" = "aarch64 arm64 linux/arm64 linux/amd64" ] &&
    ok "arm64: its own RUN under emulation (uname -m aarch64), BUILDPLATFORM the agent's" ||
    fail "arm64: its own RUN under emulation" "$(cat arch-arm64.txt)"
[ "$(jq_ img-amd64/manifest.json 'd["layers"][0]["digest"]')" != "$(jq_ img-arm64/manifest.json 'd["layers"][0]["digest"]')" ] &&
    ok "each image sits on its platform's base layer" || fail "each image sits on its platform's base layer"
[ "$(jq_ img-amd64/manifest.json 'd["layers"][1]["digest"]')" = "$(jq_ img-arm64/manifest.json 'd["layers"][1]["digest"]')" ] &&
    ok "the COPY layer is the same blob for both" || fail "the COPY layer is the same blob for both"
[ "$(jq_ img-arm64/manifest.json 'd["annotations"]["org.opencontainers.image.base.digest"]')" = \
  "$("${SK[@]}" inspect --raw --tls-verify=false "docker://$REG/base/bb:1" |
     "$PYTHON" -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"] == "arm64"][0])')" ] &&
    ok "the arm64 image names the arm64 base manifest" || fail "the arm64 image names the arm64 base manifest"

# buildah runs the arm64 image (vfs storage of its own, chroot isolation: qemu through binfmt_misc)
BA=(--root "$W/bstore" --runroot "$W/brun" --storage-driver vfs)
c=$(buildah "${BA[@]}" from --quiet --arch arm64 --os linux --tls-verify=false "docker://$REG/app/mp:1" 2>buildah.err) ||
    fail "buildah from --arch arm64" "$(cat buildah.err)"
if [ -n "${c:-}" ]; then
    mnt=$(buildah "${BA[@]}" mount "$c")
    : >"$mnt/.out" && chmod 666 "$mnt/.out"
    buildah "${BA[@]}" run --isolation chroot "$c" -- sh -c 'uname -m; cat /arch.txt; cat /hello.txt' >>"$mnt/.out" 2>&1
    [ "$(cat "$mnt/.out")" = "$(printf 'aarch64\naarch64 arm64 linux/arm64 linux/amd64\nhello')" ] &&
        ok "buildah runs the arm64 image under emulation" || fail "buildah runs the arm64 image" "$(cat "$mnt/.out")"
    [ "$(buildah "${BA[@]}" inspect --format '{{.OCIv1.Architecture}}' "$c")" = arm64 ] &&
        ok "buildah sees an arm64 image" || fail "buildah sees an arm64 image"
    buildah "${BA[@]}" umount "$c" >/dev/null 2>&1
    buildah "${BA[@]}" rm "$c" >/dev/null 2>&1
fi

# ---- each platform's image is what a single-platform build gives; reproducible
for a in amd64 arm64; do
    expect_exit 0 "single-platform build for $a" "$BOSUN" build -q --platform "linux/$a" app
    [ "$(printf '%s\n' "$OUT" | tail -n1)" = "${MDIG[$a]}" ] && ok "the index's $a manifest is the single $a build" ||
        fail "the index's $a manifest is the single $a build" "$OUT vs ${MDIG[$a]}"
done
expect_exit 0 "one --platform value: a manifest as before" "$BOSUN" build --platform linux/arm64 \
    -t "$REG/app/single:1" --push app
[ "$("${SK[@]}" inspect --raw --tls-verify=false "docker://$REG/app/single:1" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["mediaType"])')" \
  = application/vnd.oci.image.manifest.v1+json ] && ok "one platform pushes an image manifest" || fail "one platform pushes a manifest"
expect_exit 0 "a second multi-platform build" "$BOSUN" build -q --platform linux/amd64,linux/arm64 app
[ "$(printf '%s\n' "$OUT" | tail -n1)" = "$DIG" ] && ok "same SOURCE_DATE_EPOCH, same index digest" ||
    fail "same SOURCE_DATE_EPOCH, same index digest" "$OUT vs $DIG"
expect_exit 0 "platforms in the other order" "$BOSUN" build -q --platform linux/arm64,linux/amd64 app
D2=$(printf '%s\n' "$OUT" | tail -n1)
[ "$D2" != "$DIG" ] && ok "the index lists the platforms in --platform order" || fail "platform order"

# ---- the step cache keys on the platform: a FROM scratch image whose steps read the same
mkdir -p scr && dpkg-deb --fsys-tarfile "$DEB_AMD64" | tar -xO ./bin/busybox >scr/busybox && chmod 755 scr/busybox
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m >/m"]\n' >scr/Dockerfile
expect_exit 0 "scratch build for amd64 with --cache-dir" "$BOSUN" build --platform linux/amd64 --cache-dir "$W/cache" scr
expect_exit 0 "the same for arm64 with the same cache" "$BOSUN" build --platform linux/arm64 --cache-dir "$W/cache" scr
expect_out "arm64 reuses no amd64 step" '\(2 steps, 0 cached\)'
expect_exit 0 "multi-platform build on that cache" "$BOSUN" build --platform linux/amd64,linux/arm64 --cache-dir "$W/cache" scr
expect_out "both platforms' steps come from the cache" '\(4 steps, 4 cached\)'

# ---- without a binfmt_misc handler: the clear error, exit 5, nothing done or pushed
mkdir -p nobinfmt fake
expect_exit 5 "no binfmt_misc: exit 5" env BOSUN_BINFMT_DIR="$W/nobinfmt" "$BOSUN" build \
    --platform linux/amd64,linux/arm64 -t "$REG/app/nobinfmt:1" --push --output "oci:$W/nobinfmt-out:1" app
expect_out "the error names the platform and says it is not mounted" 'linux/arm64: RUN steps need emulation, but binfmt_misc is not mounted'
expect_out "the error says how to register qemu" 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; apt-get install qemu-user-static binfmt-support; update-binfmts --enable qemu-aarch64'
expect_no_out "stopped before any work (no pull, no step)" '^(pull|step|stage) '
[ "$(curl -s -o /dev/null -w '%{http_code}' "$REG_URL/v2/app/nobinfmt/manifests/1")" = 404 ] &&
    ok "nothing pushed" || fail "nothing pushed"
[ ! -e "$W/nobinfmt-out" ] && ok "no --output written" || fail "no --output written"
echo enabled >fake/status
expect_exit 5 "binfmt_misc without an aarch64 handler: exit 5" env BOSUN_BINFMT_DIR="$W/fake" "$BOSUN" build \
    --platform linux/amd64,linux/arm64 app
expect_out "no handler for aarch64" 'no binfmt_misc handler for aarch64 is registered'
sed 's/^flags: .*/flags: P/' /proc/sys/fs/binfmt_misc/qemu-aarch64 >fake/qemu-aarch64
expect_exit 5 "a handler without the F flag: exit 5" env BOSUN_BINFMT_DIR="$W/fake" "$BOSUN" build \
    --platform linux/amd64,linux/arm64 app
expect_out "the F flag is named" 'lacks the F \(fix binary\) flag'
cp /proc/sys/fs/binfmt_misc/qemu-aarch64 fake/qemu-aarch64
expect_exit 0 "the kernel's own entry, copied, is accepted" env BOSUN_BINFMT_DIR="$W/fake" "$BOSUN" build -q \
    --platform linux/amd64,linux/arm64 app
printf 'FROM %s/base/bb:1\nCOPY hello.txt /h\n' "$REG" >app/Dockerfile.copy
expect_exit 0 "COPY-only steps need no emulation" env BOSUN_BINFMT_DIR="$W/nobinfmt" "$BOSUN" build -q \
    -f app/Dockerfile.copy --platform linux/amd64,linux/arm64 app

# ---- a base without an image for every platform
"$PYTHON" "$TESTLIB/debindex.py" "$W/only-amd64" 1 "amd64=$DEB_AMD64" >/dev/null
printf 'FROM oci:%s/only-amd64:1\nCOPY hello.txt /h\n' "$W" >app/Dockerfile.one
expect_exit 3 "an index without arm64: exit 3" "$BOSUN" build -f app/Dockerfile.one \
    --platform linux/amd64,linux/arm64 app
expect_out "the error says which platform is missing" 'no image for platform linux/arm64'
"$PYTHON" "$TESTLIB/debindex.py" --flat "$W/flat-amd64" 1 "amd64=$DEB_AMD64" >/dev/null
printf 'FROM oci:%s/flat-amd64:1\nCOPY hello.txt /h\n' "$W" >app/Dockerfile.flat
expect_exit 3 "a single amd64 image as the base of two platforms: exit 3" "$BOSUN" build -f app/Dockerfile.flat \
    --platform linux/amd64,linux/arm64 app
expect_out "the error says the base is amd64" 'is linux/amd64, not linux/arm64'
expect_exit 0 "that base still serves a single-platform build" "$BOSUN" build -q -f app/Dockerfile.flat app

# ---- ship: both platforms scanned, the gate on both, index and manifests signed
"$BOSUN" keygen -q --output-key-prefix "$W/k" >/dev/null 2>&1
mkdir -p osv
cat >osv/BOSUN-DEMO-2019-0001.json <<'J'
{"schema_version": "1.6.0", "id": "BOSUN-DEMO-2019-0001", "modified": "2026-01-01T00:00:00Z",
 "aliases": ["CVE-2019-14697"], "summary": "DEMO DATA: musl x87 floating-point stack adjustment overflow",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Alpine:v3.10", "name": "musl"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.22-r3"}]}]}]}
J
check "test database builds" "$BOSUN" db build --osv osv -o vuln.db
expect_exit 0 "ship two platforms" "$BOSUN" ship --platform linux/amd64,linux/arm64 -t "$REG/app/shipmp:1" \
    --db vuln.db --key k.key --attest --report-dir rep app
SDIG=$(printf '%s\n' "$OUT" | grep -E '^sha256:[0-9a-f]{64}$' | tail -n1)
"${SK[@]}" inspect --raw --tls-verify=false "docker://$REG/app/shipmp:1" >ship-index.json
[ "sha256:$(sha256sum <ship-index.json | cut -c1-64)" = "$SDIG" ] && ok "ship pushed the index it printed" ||
    fail "ship pushed the index it printed" "$OUT"
[ "$(jq_ rep/results.json 'd["stages"]["scan"]["details"]')" != "" ] &&
    [[ "$(jq_ rep/results.json 'd["stages"]["scan"]["details"]')" == linux/amd64:*"; linux/arm64:"* ]] &&
    ok "both platforms' images were scanned" || fail "both platforms scanned" "$(jq_ rep/results.json 'd["stages"]')"
[ "$(jq_ rep/results.json '[d["stages"][s]["status"] for s in ("build","scan","policy","push","sign","attest")]')" \
    = "['passed', 'passed', 'passed', 'passed', 'passed', 'passed']" ] && ok "every ship stage passed" ||
    fail "every ship stage passed" "$(jq_ rep/results.json 'd["stages"]')"
for f in scan.sarif sbom.cdx.json scan.linux-amd64.sarif scan.linux-arm64.sarif sbom.linux-amd64.cdx.json sbom.linux-arm64.cdx.json; do
    [ -s "rep/$f" ] && ok "report dir has $f" || fail "report dir has $f"
done
check "bosun verify: the index is signed and attested" "$BOSUN" verify --key k.pub --attestation slsaprovenance \
    "$REG/app/shipmp:1"
ACC='Accept: application/vnd.oci.image.manifest.v1+json'
for a in amd64 arm64; do
    m=$(jq_ ship-index.json "[m['digest'] for m in d['manifests'] if m['platform']['architecture'] == '$a'][0]")
    check "bosun verify: the $a manifest is signed, with its SBOM and scan attested" "$BOSUN" verify --key k.pub \
        --attestation cyclonedx --attestation vuln --attestation slsaprovenance "$REG/app/shipmp@$m"
    curl -sf -H "$ACC" "$REG_URL/v2/app/shipmp/manifests/sha256-${m#sha256:}.sig" >"sig-$a.json"
    "$PYTHON" - "sig-$a.json" "$REG_URL/v2/app/shipmp/blobs" "$a" <<'PY' >"sigdig-$a.txt"
import json, sys, base64, urllib.request
m = json.load(open(sys.argv[1])); l = m["layers"][0]
payload = urllib.request.urlopen(sys.argv[2] + "/" + l["digest"]).read()
open("payload-" + sys.argv[3], "wb").write(payload)
open("sig-" + sys.argv[3] + ".der", "wb").write(base64.b64decode(l["annotations"]["dev.cosignproject.cosign/signature"]))
print(json.loads(payload)["critical"]["image"]["docker-manifest-digest"])
PY
    [ "$(cat "sigdig-$a.txt")" = "$m" ] && ok "the $a signature names the $a manifest" || fail "the $a signature names it"
    check "openssl verifies the $a manifest's signature" openssl dgst -sha256 -verify k.pub -signature "sig-$a.der" "payload-$a"
    curl -sf -H "$ACC" "$REG_URL/v2/app/shipmp/manifests/sha256-${m#sha256:}.att" >"att-$a.json"
    "$PYTHON" - "att-$a.json" "$REG_URL/v2/app/shipmp/blobs" "$m" <<'PY' >"attdeps-$a.txt"
import json, sys, base64, urllib.request
m = json.load(open(sys.argv[1]))
for l in m["layers"]:
    st = json.loads(base64.b64decode(json.loads(urllib.request.urlopen(sys.argv[2] + "/" + l["digest"]).read())["payload"]))
    assert st["subject"][0]["digest"]["sha256"] == sys.argv[3][7:], st["subject"]
    if st["predicateType"] == "https://slsa.dev/provenance/v1":
        print(" ".join("sha256:" + d["digest"]["sha256"] for d in st["predicate"]["buildDefinition"]["resolvedDependencies"]))
PY
    want=$("${SK[@]}" inspect --raw --tls-verify=false "docker://$REG/base/bb:1" |
        "$PYTHON" -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"] == sys.argv[1]][0])' "$a")
    [ "$(cat "attdeps-$a.txt")" = "$want" ] && ok "the $a provenance names the $a base manifest" ||
        fail "the $a provenance names the $a base manifest" "$(cat "attdeps-$a.txt") vs $want"
done

# a finding in the arm64 image only fails the gate for the index: nothing pushed
cat >app/Dockerfile.bad <<EOF
FROM $REG/base/bb:1
ARG TARGETARCH
RUN if [ "\$TARGETARCH" = arm64 ]; then mkdir -p /lib/apk/db && \
    printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.2\n' >/etc/os-release && \
    printf 'P:musl\nV:1.1.22-r2\no:musl\n\n' >/lib/apk/db/installed; fi
EOF
expect_exit 1 "a critical finding on arm64 only: exit 1" "$BOSUN" ship -f app/Dockerfile.bad \
    --platform linux/amd64,linux/arm64 -t "$REG/app/shipbad:1" --db vuln.db --key k.key --report-dir rep-bad app
[ "$(jq_ rep-bad/results.json 'd["stages"]["policy"]["details"]')" = "1 finding at or above high (linux/arm64: 1)" ] &&
    ok "the gate names the failing platform" || fail "the gate names the failing platform" "$(jq_ rep-bad/results.json 'd["stages"]["policy"]')"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$REG_URL/v2/app/shipbad/manifests/1")" = 404 ] &&
    ok "the failed index was not pushed" || fail "the failed index was not pushed"
sed 's/if \[ "$TARGETARCH" = arm64 \]/if true/' app/Dockerfile.bad >app/Dockerfile.bad2
expect_exit 1 "the finding on both platforms: exit 1" "$BOSUN" ship -f app/Dockerfile.bad2 --no-push \
    --platform linux/amd64,linux/arm64 --db vuln.db --report-dir rep-bad2 app
[ "$(jq_ rep-bad2/results.json 'd["stages"]["policy"]["details"]')" = \
  "2 findings at or above high (linux/amd64: 1, linux/arm64: 1)" ] && ok "the gate counts it on each platform" ||
    fail "the gate counts it on each platform" "$(jq_ rep-bad2/results.json 'd["stages"]["policy"]')"
[ "$(jq_ rep-bad2/results.json '[f["id"] for f in d["findings"]]')" = "['BOSUN-DEMO-2019-0001']" ] &&
    ok "the same finding is listed once" || fail "the same finding is listed once" "$(jq_ rep-bad2/results.json 'd["findings"]')"
finish
