#!/usr/bin/env bash
# bosun base pin / check --dockerfile: a Dockerfile with several stages,
# comments, odd spacing, a continuation and ARGs in FROM is rewritten to the
# golden file (digests from skopeo), idempotently; --update moves a stale pin.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$(dirname "$0")/../lib/images.sh"

T=$(tmpdir_new pin)
D="$(dirname "$0")/data/base"
registry_start_open
sk_digest() { skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | sed 's/^/sha256:/; s/ .*//'; }

make_busybox_oci "$T/bb" 1
check "push base:1" "$BOSUN" copy "oci:$T/bb:1" "$REG/base:1"
OLD=$(sk_digest "$REG/base:1")
mkdir -p "$T/b2" && printf 'v2\n' >"$T/b2/v2" && printf 'FROM oci:%s/bb:1\nCOPY v2 /v2\n' "$T" >"$T/b2/Dockerfile"
check "push a new base:1" "$BOSUN" build -t "$REG/base:1" --push "$T/b2"
check "push tools:2" "$BOSUN" build -t "$REG/tools:2" --push "$T/b2"
NEW=$(sk_digest "$REG/base:1")
TOOLS=$(sk_digest "$REG/tools:2")
sub() { sed -e "s#@REG@#$REG#g" -e "s#@OLD@#$OLD#g" -e "s#@NEW@#$NEW#g" -e "s#@TOOLS@#$TOOLS#g" "$1"; }
sub "$D/pin.Dockerfile" >"$T/Dockerfile"
sub "$D/pin.golden" >"$T/golden"
sub "$D/pin-update.golden" >"$T/golden-update"

expect_exit 0 "check --dockerfile before pinning" "$BOSUN" base check --dockerfile "$T/Dockerfile"
expect_out "unpinned FROM listed with its current digest" "Dockerfile:7: FROM $REG/base:1: unpinned: current $NEW"
expect_out "stale pin reported" "Dockerfile:12: FROM $REG/base:1@$OLD: stale: pinned $OLD, current $NEW"
expect_out "stage reference skipped" "Dockerfile:13: FROM build: skipped"
expect_out "scratch skipped" "Dockerfile:14: FROM scratch: skipped"
expect_out "continuation line FROM found" "Dockerfile:15: FROM $REG/base:1: unpinned"
expect_exit 1 "--fail-if-stale with a stale pin" "$BOSUN" base check --fail-if-stale --dockerfile "$T/Dockerfile"

check "base pin" "$BOSUN" base pin --dockerfile "$T/Dockerfile"
cmp -s "$T/Dockerfile" "$T/golden" && ok "pinned file equals the golden file" || fail "golden" "$(diff "$T/golden" "$T/Dockerfile")"
cp "$T/Dockerfile" "$T/once"
check "base pin again" "$BOSUN" base pin --dockerfile "$T/Dockerfile"
cmp -s "$T/Dockerfile" "$T/once" && ok "pin is idempotent" || fail "not idempotent" "$(diff "$T/once" "$T/Dockerfile")"
check "base pin --update" "$BOSUN" base pin --update --dockerfile "$T/Dockerfile"
cmp -s "$T/Dockerfile" "$T/golden-update" && ok "--update moves the stale pin (golden)" || fail "update golden" "$(diff "$T/golden-update" "$T/Dockerfile")"
cp "$T/Dockerfile" "$T/twice"
check "base pin --update again" "$BOSUN" base pin --update --dockerfile "$T/Dockerfile"
cmp -s "$T/Dockerfile" "$T/twice" && ok "--update is idempotent" || fail "update not idempotent"
expect_exit 0 "all pins current" "$BOSUN" base check --fail-if-stale --format json --dockerfile "$T/Dockerfile"
"$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1][sys.argv[1].index("{"):]); s=[f["status"] for f in d["from"]]; assert d["stale"] is False and s.count("up-to-date")==4 and s.count("skipped")==2, s' "$OUT" &&
    ok "json: 4 up-to-date, 2 skipped" || fail "json statuses" "$OUT"

# The pinned file still builds, and bosun build records the pinned digest.
mkdir -p "$T/ctx" && printf 'hi\n' >"$T/ctx/hello.txt"
cp "$T/Dockerfile" "$T/ctx/Dockerfile"
check "bosun build accepts the pinned Dockerfile" "$BOSUN" build -t "$REG/pinned-app:1" --push "$T/ctx"
expect_exit 0 "base check of the image built from it" "$BOSUN" base check --format json "$REG/pinned-app:1"
expect_out "image records the pinned digest" "\"digest\":[[:space:]]*\"$NEW\""

# ARG override and bad input.
expect_exit 3 "--build-arg TAG=9 names a missing tag" "$BOSUN" base check --build-arg TAG=9 --dockerfile "$T/Dockerfile"
expect_out "error names the line" "Dockerfile:7"
cp "$T/Dockerfile" "$T/before-dry"
check "pin --dry-run" "$BOSUN" base pin --update --dry-run --dockerfile "$T/Dockerfile"
cmp -s "$T/Dockerfile" "$T/before-dry" && ok "--dry-run writes nothing" || fail "dry run wrote"
printf 'FROM\n' >"$T/bad.Dockerfile"
expect_exit 3 "FROM without image" "$BOSUN" base pin --dockerfile "$T/bad.Dockerfile"
printf 'RUN true\n' >"$T/nofrom.Dockerfile"
expect_exit 3 "no FROM" "$BOSUN" base check --dockerfile "$T/nofrom.Dockerfile"
expect_exit 3 "missing Dockerfile" "$BOSUN" base pin --dockerfile "$T/missing"
expect_exit 2 "pin without --dockerfile" "$BOSUN" base pin
finish
