#!/usr/bin/env bash
# The README's demo: a small busybox base image copied into a local
# registry with bosun and read back by skopeo; the example app built on it
# and pushed, its base checked, signed and verified; a docker archive
# exported.
# Everything lives in a temporary directory removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/registry.sh
source tests/lib/images.sh

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

work=$(tmpdir_new)
BOSUN=${BOSUN:-./bosun}

step "start Debian's docker-registry on 127.0.0.1"
registry_start_open
echo "registry at $REG"

step "make a one-layer busybox image as an OCI layout"
make_busybox_oci "$work/busybox" 1.0
echo "oci:$work/busybox:1.0 ($IMG_MANIFEST_DIGEST)"

step "push it with bosun"
digest=$(run "$BOSUN" copy "oci:$work/busybox:1.0" "$REG/demo/busybox:1.0")
echo "pushed $digest"

step "inspect what the registry holds"
run "$BOSUN" inspect "$REG/demo/busybox:1.0"

step "skopeo, an independent client, reads the same digest"
sk=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/demo/busybox:1.0")
echo "skopeo says $sk"
[ "$sk" = "$digest" ] && echo "same digest"

step "build the example app (examples/app) on that base, without a daemon, and push it"
app=$(run "$BOSUN" build --build-arg BASE="$REG/demo/busybox:1.0" --build-arg VERSION=1.0 \
	-t "$REG/demo/app:1.0" --push examples/app)
echo "built and pushed $REG/demo/app:1.0 at $app"
run "$BOSUN" inspect "$REG/demo/app:1.0"

step "is the app's base image still current?"
run "$BOSUN" base check "$REG/demo/app:1.0"

step "sign the app's digest with a fresh cosign-compatible key, then verify it"
export COSIGN_PASSWORD=demo-only-password
run "$BOSUN" keygen --output-key-prefix "$work/demo"
run "$BOSUN" sign --key "$work/demo.key" -a pipeline=demo "$REG/demo/app:1.0"
run "$BOSUN" verify --key "$work/demo.pub" "$REG/demo/app:1.0"

step "export it as a docker archive and read that back"
run "$BOSUN" copy "$REG/demo/busybox:1.0" "docker-archive:$work/busybox.tar"
ls -l "$work/busybox.tar"
run "$BOSUN" inspect --format json "docker-archive:$work/busybox.tar" | head -20

step "done; the registry is stopped and $work removed"
