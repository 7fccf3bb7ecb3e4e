#!/usr/bin/env bash
# Faults between bosun and the registry, injected by a proxy: 5xx, 429 with
# Retry-After, connections reset in the middle of a blob, truncated bodies.
# Every push and pull either completes with the right digests or fails
# with exit code 4; a tag never points at a missing blob and no corrupt
# file is ever left in an OCI layout.
set -u
# Back-off between retries scaled to 5 % (a test-only knob, core/util.h):
# the faults are the same, the suite stops waiting out real back-off. A
# server's Retry-After is still waited for in full.
export BOSUN_TEST_BACKOFF_SCALE=0.05
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new faults)
sk() { timeout 120 skopeo --insecure-policy "$@"; }
layout_ok() {
	local f
	for f in "$1"/blobs/sha256/*; do
		[ -e "$f" ] || continue
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || return 1
	done
	# no temporary files left visible as blobs, and index.json (if any) parses
	[ ! -e "$1/index.json" ] || "$PYTHON" -m json.tool "$1/index.json" >/dev/null
}
# A tag that exists must be complete: skopeo can copy all of it.
tag_complete() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/$1/manifests/$2")
	[ "$code" = 404 ] && return 0
	sk copy --src-tls-verify=false "docker://$REG/$1:$2" "oci:$W/verify-${1//\//_}-$2:x" >/dev/null 2>&1
}

registry_start_open
make_multilayer_oci "$W/img" 3 2 v1 >/dev/null
want=$IMG_MANIFEST_DIGEST
faultproxy_start --mode random --rate 0.15 --seed 4242

pushed=0 push_fail=0 bad=0
for i in $(seq 1 20); do
	"$BOSUN" -q copy --retries 3 "oci:$W/img:v1" "$PROXY/faults/push$i:v1" >"$W/out" 2>&1
	rc=$?
	case $rc in
	0) [ "$(tail -1 "$W/out")" = "$want" ] && pushed=$((pushed + 1)) || { bad=1; diag "push $i: wrong digest: $(cat "$W/out")"; } ;;
	4) push_fail=$((push_fail + 1)) ;;
	*) bad=1; diag "push $i: exit $rc: $(cat "$W/out")" ;;
	esac
	tag_complete "faults/push$i" v1 || { bad=1; diag "push $i: tag points at missing content"; }
done
[ "$bad" -eq 0 ] && ok "20 pushes through faults: $pushed complete, $push_fail exit 4, no other outcome" || fail "20 pushes through faults"
[ "$pushed" -ge 10 ] && ok "retries carry most pushes through ($pushed/20)" || fail "retries carry most pushes through ($pushed/20)"

# Pulls, from a repository pushed directly.
sk copy --dest-tls-verify=false "oci:$W/img:v1" "docker://$REG/faults/src:v1" >/dev/null 2>&1
pulled=0 pull_fail=0 bad=0
for i in $(seq 1 20); do
	"$BOSUN" -q copy --retries 3 "$PROXY/faults/src:v1" "oci:$W/pull$i:v1" >"$W/out" 2>&1
	rc=$?
	case $rc in
	0) [ "$(tail -1 "$W/out")" = "$want" ] && pulled=$((pulled + 1)) || { bad=1; diag "pull $i: wrong digest"; } ;;
	4) pull_fail=$((pull_fail + 1)) ;;
	*) bad=1; diag "pull $i: exit $rc: $(cat "$W/out")" ;;
	esac
	layout_ok "$W/pull$i" || { bad=1; diag "pull $i: corrupt layout"; }
	if [ "$rc" -ne 0 ] && [ -e "$W/pull$i/index.json" ] && grep -q v1 "$W/pull$i/index.json"; then
		bad=1; diag "pull $i: failed but tagged"
	fi
done
[ "$bad" -eq 0 ] && ok "20 pulls through faults: $pulled complete, $pull_fail exit 4, no corrupt layout" || fail "20 pulls through faults"
[ "$pulled" -ge 10 ] && ok "retries carry most pulls through ($pulled/20)" || fail "retries carry most pulls through ($pulled/20)"
n=$(proxy_faults)
[ "$n" -ge 10 ] && ok "the proxy injected $n faults" || fail "the proxy injected only $n faults"

# Targeted faults.
faultproxy_start --mode 429 --max-faults 1 --only-path '/manifests/'
start=$(date +%s.%N)
expect_exit 0 "429 with Retry-After is waited out" "$BOSUN" -q inspect "$PROXY/faults/src:v1"
el=$(echo "$(date +%s.%N) - $start" | bc)
[ "$(echo "$el >= 0.9" | bc)" = 1 ] && ok "waited for Retry-After (${el}s)" || fail "waited for Retry-After (${el}s)"

faultproxy_start --mode reset --max-faults 2 --only-path '/blobs/sha256:'
expect_exit 0 "pull survives resets in the middle of blobs" "$BOSUN" -q copy "$PROXY/faults/src:v1" "oci:$W/reset:v1"
layout_ok "$W/reset" && ok "layout after resets verifies" || fail "layout after resets verifies"
[ "$(proxy_faults)" -eq 2 ] && ok "two resets were injected" || fail "two resets were injected"

faultproxy_start --mode truncate --max-faults 2 --only-path '/blobs/sha256:' --only-method GET
expect_exit 0 "pull survives truncated blobs" "$BOSUN" -q copy "$PROXY/faults/src:v1" "oci:$W/trunc:v1"
layout_ok "$W/trunc" && ok "layout after truncation verifies" || fail "layout after truncation verifies"

faultproxy_start --mode 503
expect_exit 4 "a registry that always answers 503 gives exit 4" "$BOSUN" -q copy --retries 2 "oci:$W/img:v1" "$PROXY/faults/down:v1"
expect_out "the message names the registry and the status" "$PROXY.*503|503.*$PROXY"
tag_complete faults/down v1 && ok "no tag after a failed push" || fail "no tag after a failed push"

faultproxy_start --mode 500 --only-path '/blobs/uploads/' --max-faults 3
expect_exit 0 "push survives 500s on uploads" "$BOSUN" -q copy "oci:$W/img:v1" "$PROXY/faults/up500:v1"
tag_complete faults/up500 v1 && ok "pushed image complete" || fail "pushed image complete"
finish
