#!/usr/bin/env bash
# Round trips against a real registry, with skopeo as the independent peer:
# what bosun pushes skopeo reads with the same digest, what skopeo pushes
# bosun pulls with identical blobs, and oci -> registry -> docker-archive ->
# oci keeps every digest. Multi-platform indexes are copied whole or by
# platform.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new rt)
sk() { timeout 120 skopeo --insecure-policy "$@"; }
# Every blob file of a layout hashes to its name.
layout_ok() {
	local f bad=0
	for f in "$1"/blobs/sha256/*; do
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || bad=1
	done
	[ "$bad" -eq 0 ]
}
blobs_of() { (cd "$1/blobs/sha256" && ls | sort); }

registry_start_open
make_busybox_oci "$W/bb" 1.0 >/dev/null
want=$IMG_MANIFEST_DIGEST

expect_exit 0 "bosun pushes an OCI layout" "$BOSUN" copy --digest-file "$W/d" "oci:$W/bb:1.0" "$REG/rt/bb:1.0"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$want" ] && ok "printed digest is the manifest digest" || fail "printed digest" "$OUT"
[ "$(cat "$W/d")" = "$want" ] && ok "--digest-file" || fail "--digest-file"
got=$(sk inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/rt/bb:1.0" 2>&1)
[ "$got" = "$want" ] && ok "skopeo inspect sees the same digest" || fail "skopeo inspect sees the same digest" "$got"
check "skopeo copy pulls what bosun pushed" sk copy --src-tls-verify=false "docker://$REG/rt/bb:1.0" "oci:$W/sk-pulled:x"
[ "$(blobs_of "$W/bb")" = "$(blobs_of "$W/sk-pulled")" ] && ok "skopeo got identical blobs" || fail "skopeo got identical blobs" "$(diff <(blobs_of "$W/bb") <(blobs_of "$W/sk-pulled"))"

# Re-push: every blob exists, nothing is uploaded again.
expect_exit 0 "re-push" "$BOSUN" copy "oci:$W/bb:1.0" "$REG/rt/bb:1.0"
# Cross-repository: the registry mounts blobs from rt/bb.
expect_exit 0 "copy between repositories of one registry" "$BOSUN" copy "$REG/rt/bb:1.0" "$REG/rt/other:2"
got=$(sk inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/rt/other:2" 2>&1)
[ "$got" = "$want" ] && ok "cross-repo copy keeps the digest" || fail "cross-repo copy keeps the digest" "$got"

# skopeo pushes, bosun pulls.
make_multilayer_oci "$W/ml" 3 1 v1 >/dev/null
ml=$IMG_MANIFEST_DIGEST
check "skopeo pushes a 3-layer image" sk copy --dest-tls-verify=false "oci:$W/ml:v1" "docker://$REG/rt/ml:v1"
expect_exit 0 "bosun pulls it into a layout" "$BOSUN" copy "$REG/rt/ml:v1" "oci:$W/pulled:v1"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$ml" ] && ok "pulled digest matches" || fail "pulled digest matches" "$OUT"
[ "$(blobs_of "$W/ml")" = "$(blobs_of "$W/pulled")" ] && ok "identical blob set" || fail "identical blob set"
layout_ok "$W/pulled" && ok "every pulled blob hashes to its name" || fail "every pulled blob hashes to its name"
check "skopeo reads bosun's layout" sk inspect "oci:$W/pulled:v1"

# oci -> registry -> docker-archive -> oci keeps every digest.
expect_exit 0 "registry -> docker-archive" "$BOSUN" copy "$REG/rt/bb:1.0" "docker-archive:$W/bb.tar"
expect_exit 0 "docker-archive -> oci" "$BOSUN" copy "docker-archive:$W/bb.tar" "oci:$W/back:1.0"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$want" ] && ok "round trip keeps the manifest digest" || fail "round trip keeps the manifest digest" "$OUT"
[ "$(blobs_of "$W/bb")" = "$(blobs_of "$W/back")" ] && ok "round trip keeps every blob" || fail "round trip keeps every blob"
check "skopeo reads bosun's docker archive" sk inspect "docker-archive:$W/bb.tar"
check "skopeo copies bosun's docker archive" sk copy "docker-archive:$W/bb.tar" "oci:$W/sk-from-archive:x"
check "archive lists the repo tag" sh -c "tar -xOf '$W/bb.tar' manifest.json | grep -q '$REG/rt/bb:1.0'"
# skopeo writes a legacy docker archive; bosun reads it.
check "skopeo writes a docker archive" sk copy "oci:$W/bb:1.0" "docker-archive:$W/sk.tar:sk/bb:1"
expect_exit 0 "bosun reads skopeo's docker archive" "$BOSUN" copy "docker-archive:$W/sk.tar" "$REG/rt/from-sk:1"
check "the image from skopeo's archive is readable" sk inspect --tls-verify=false "docker://$REG/rt/from-sk:1"

# A multi-platform index: amd64 + arm64/v8 sharing one layer.
mkdir -p "$W/multi" && cp -a "$W/bb/." "$W/multi/"
"$PYTHON" - "$W/multi" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(d, "blobs/sha256", h), "wb").write(b)
    return "sha256:" + h, len(b)
idx = json.load(open(os.path.join(d, "index.json")))
m0 = idx["manifests"][0]
man = json.load(open(os.path.join(d, "blobs/sha256", m0["digest"][7:])))
cfg = json.load(open(os.path.join(d, "blobs/sha256", man["config"]["digest"][7:])))
cfg.update(architecture="arm64", variant="v8")
cd, cs = put(json.dumps(cfg, separators=(",", ":")).encode())
man2 = dict(man, config=dict(man["config"], digest=cd, size=cs))
md, ms = put(json.dumps(man2, separators=(",", ":")).encode())
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": m0["mediaType"], "digest": m0["digest"], "size": m0["size"], "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": m0["mediaType"], "digest": md, "size": ms, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}
xd, xs = put(json.dumps(index, separators=(",", ":")).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": index["mediaType"], "digest": xd, "size": xs,
    "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}, open(os.path.join(d, "index.json"), "w"))
open(os.path.join(d, "index-digest"), "w").write(xd)
open(os.path.join(d, "arm-digest"), "w").write(md)
PY
xd=$(cat "$W/multi/index-digest"); armd=$(cat "$W/multi/arm-digest")
expect_exit 0 "push a multi-platform index whole" "$BOSUN" copy "oci:$W/multi:multi" "$REG/rt/multi:1"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$xd" ] && ok "index digest kept" || fail "index digest kept" "$OUT"
raw=$(sk inspect --tls-verify=false --raw "docker://$REG/rt/multi:1" | sha256sum | cut -d' ' -f1)
[ "sha256:$raw" = "$xd" ] && ok "skopeo reads the same index" || fail "skopeo reads the same index"
check "skopeo pulls the arm64 child" sk copy --src-tls-verify=false --override-arch arm64 --override-variant v8 "docker://$REG/rt/multi:1" "oci:$W/sk-arm:x"
expect_exit 0 "inspect lists platforms" "$BOSUN" inspect "$REG/rt/multi:1"
expect_out "both platforms shown" 'linux/amd64, linux/arm64/v8'
expect_exit 0 "inspect --platform arm64 as JSON" "$BOSUN" inspect --format json --platform linux/arm64 "$REG/rt/multi:1"
printf '%s' "$OUT" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); assert d["config"]["architecture"]=="arm64", d; assert d["manifest"]["digest"]==sys.argv[1]' "$armd" && ok "json names the arm64 manifest" || fail "json names the arm64 manifest" "$OUT"
expect_exit 0 "copy one platform" "$BOSUN" copy --platform linux/arm64 "$REG/rt/multi:1" "oci:$W/arm:1"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$armd" ] && ok "one platform copied by its own digest" || fail "one platform copied by its own digest" "$OUT"
expect_exit 3 "a platform the index lacks" "$BOSUN" copy --platform linux/s390x "$REG/rt/multi:1" "oci:$W/none:1"
expect_out "lists the available platforms" 'linux/amd64'
expect_exit 0 "index -> docker archive picks linux/amd64" "$BOSUN" copy "$REG/rt/multi:1" "docker-archive:$W/multi.tar"
[ "$(printf '%s\n' "$OUT" | tail -1)" = "$want" ] && ok "archive holds the amd64 image" || fail "archive holds the amd64 image" "$OUT"
expect_exit 0 "pull the index whole" "$BOSUN" copy "$REG/rt/multi:1" "oci:$W/multi-back:1"
layout_ok "$W/multi-back" && ok "pulled index layout verifies" || fail "pulled index layout verifies"

# Digest references.
expect_exit 0 "pull by digest" "$BOSUN" copy "$REG/rt/bb@$want" "oci:$W/bydigest"
expect_exit 0 "inspect by digest" "$BOSUN" inspect "$REG/rt/bb@$want"
expect_exit 4 "unknown tag is a registry error" "$BOSUN" inspect --retries 1 "$REG/rt/bb:nope"
expect_out "names the manifest" 'nope|MANIFEST_UNKNOWN|404'
finish
