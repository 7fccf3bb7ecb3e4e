#!/usr/bin/env bash
# The README's demo: a small busybox base image copied into a local
# registry with bosun and read back by skopeo; the example app shipped on
# it (build, scan with demo data, gate, push, sign, attest, reports),
# verified as a deploy stage would, its base checked; a docker archive
# exported. Reports stay in ./bosun-reports.
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

step "compile a demo vulnerability database (examples/demo-db: demo data, not real advisories)"
run "$BOSUN" db build --osv examples/demo-db -o "$work/demo.db"

step "a fresh cosign-compatible signing key"
export COSIGN_PASSWORD=demo-only-password
run "$BOSUN" keygen --output-key-prefix "$work/demo"

step "ship the example app: build -> scan -> gate -> push -> sign -> attest"
reports="$PWD/bosun-reports"
rm -rf "$reports"
run "$BOSUN" ship -t "$REG/demo/app:1.0" --build-arg BASE="$REG/demo/busybox:1.0" \
	--build-arg VERSION=1.0 --db "$work/demo.db" --fail-on critical \
	--key "$work/demo.key" --attest --report-dir "$reports" examples/app
echo
echo "reports for release managers in $reports:"
ls -l "$reports"
echo
cat "$reports/summary.md"

step "the deploy gate: verify the signature and the attestations"
run "$BOSUN" verify --key "$work/demo.pub" --attestation slsaprovenance --attestation vuln \
	--attestation cyclonedx "$REG/demo/app:1.0"

step "what the registry holds now"
run "$BOSUN" inspect "$REG/demo/app:1.0"

step "is the app's base image still current?"
run "$BOSUN" base check "$REG/demo/app:1.0"

step "export the app as a docker archive and read that back"
run "$BOSUN" copy "$REG/demo/app:1.0" "docker-archive:$work/app.tar"
ls -l "$work/app.tar"
run "$BOSUN" inspect --format json "docker-archive:$work/app.tar" | head -20

step "done: the registry is stopped and $work removed; open $reports/report.html"
