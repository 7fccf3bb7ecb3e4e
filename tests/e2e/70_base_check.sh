#!/usr/bin/env bash
# bosun base check against a local registry: an app built with bosun build on
# base:1 is up-to-date, stale after base:1 is pushed anew (both digests,
# checked with skopeo), up-to-date after a rebuild; unknown without a record;
# Azure-task labels; a multi-platform base where only the other platform
# changes; CI outputs; an unreachable base registry.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$(dirname "$0")/../lib/images.sh"

T=$(tmpdir_new base)
registry_start_open
SK=(skopeo --override-os linux)
sk_digest() { skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | sed 's/^/sha256:/; s/ .*//'; }
jq_() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

make_busybox_oci "$T/bb" 1
check "push base:1 (v1)" "$BOSUN" copy "oci:$T/bb:1" "$REG/base:1"
BASE1=$(sk_digest "$REG/base:1")

mkdir -p "$T/app"
printf 'hello\n' >"$T/app/hello.txt"
printf 'FROM %s/base:1\nCOPY hello.txt /hello.txt\n' "$REG" >"$T/app/Dockerfile"
check "bosun build app:1 on base:1" "$BOSUN" build -t "$REG/app:1" --push "$T/app"

expect_exit 0 "check app:1" "$BOSUN" base check --format json "$REG/app:1"
printf '%s\n' "$OUT" | sed -n '/^{/,/^}/p' >"$T/c1.json"
[ "$(jq_ "$T/c1.json" 'd["status"]')" = up-to-date ] && ok "fresh build is up-to-date" || fail "status" "$(cat "$T/c1.json")"
[ "$(jq_ "$T/c1.json" 'd["base"]["digest"]')" = "$BASE1" ] && ok "recorded digest is skopeo's digest of base:1" || fail "recorded digest"
[ "$(jq_ "$T/c1.json" 'd["base"]["name"]')" = "$REG/base:1" ] && ok "base name recorded" || fail "base name"

# A different base:1 (one more file), built by bosun on the old one.
mkdir -p "$T/b2"
printf 'security fix\n' >"$T/b2/fix.txt"
printf 'FROM oci:%s/bb:1\nCOPY fix.txt /etc/fix.txt\n' "$T" >"$T/b2/Dockerfile"
check "push a new base:1" "$BOSUN" build -t "$REG/base:1" --push "$T/b2"
BASE2=$(sk_digest "$REG/base:1")
[ "$BASE1" != "$BASE2" ] && ok "base:1 moved" || fail "base:1 did not move"

expect_exit 0 "stale is exit 0 by default" "$BOSUN" base check "$REG/app:1"
expect_out "text says stale" "app:1: stale"
expect_out "text names the old digest" "built on: +$BASE1"
expect_out "text names the new digest" "current: +$BASE2"
expect_out "text gives the age of the new base" "new base: +published [0-9]+ (minutes|hours|days)"
expect_exit 1 "--fail-if-stale exits 1" "$BOSUN" base check --fail-if-stale "$REG/app:1"
expect_exit 0 "json stale" "$BOSUN" base check --format json "$REG/app:1"
printf '%s\n' "$OUT" | sed -n '/^{/,/^}/p' >"$T/c2.json"
[ "$(jq_ "$T/c2.json" 'd["status"]+" "+d["base"]["digest"]+" "+d["current"]["digest"]')" = "stale $BASE1 $BASE2" ] &&
    ok "json: stale with both digests" || fail "json stale" "$(cat "$T/c2.json")"
jq_ "$T/c2.json" 'd["current"]["ageSeconds"] >= 0 and d["current"]["created"]' >/dev/null && ok "json: age and created" || fail "age"

# CI outputs
rm -f "$T/gh.out"
OUT=$(TF_BUILD=True GITHUB_OUTPUT="$T/gh.out" JENKINS_URL=http://jenkins "$BOSUN" base check --report-dir "$T/rep" "$REG/app:1" 2>&1)
expect_out "azure baseStale output" '^##vso\[task.setvariable variable=baseStale;isOutput=true\]true$'
expect_out "azure baseCurrentDigest output" "^##vso\[task.setvariable variable=baseCurrentDigest;isOutput=true\]$BASE2\$"
grep -qx "baseDigest=$BASE1" "$T/gh.out" && grep -qx "baseStale=true" "$T/gh.out" && ok "github outputs" || fail "github outputs" "$(cat "$T/gh.out" 2>&1)"
grep -qx 'baseStale=true' "$T/rep/bosun-base.properties" && grep -qx "baseCurrentDigest=sha256\\\\:${BASE2#sha256:}" "$T/rep/bosun-base.properties" &&
    ok "jenkins properties (':' escaped as Properties.store does)" || fail "jenkins properties" "$(cat "$T/rep/bosun-base.properties" 2>&1)"
OUT=$("$BOSUN" base check "$REG/app:1" 2>&1)
expect_no_out "no ##vso outside Azure" '##vso'

check "rebuild app:1" "$BOSUN" build -t "$REG/app:1" --push "$T/app"
expect_exit 0 "check after rebuild" "$BOSUN" base check "$REG/app:1"
expect_out "rebuilt app is up-to-date" "app:1: up-to-date"
expect_out "on the new digest" "built on: +$BASE2"

# No record at all.
check "push a plain image" "$BOSUN" copy "oci:$T/bb:1" "$REG/plain:1"
expect_exit 0 "unknown is exit 0 even with --fail-if-stale" "$BOSUN" base check --fail-if-stale "$REG/plain:1"
expect_out "unknown" "plain:1: unknown"
expect_out "advice on how to record the base" "org.opencontainers.image.base.name"

# Labels as the Azure Docker@2 task writes them (no annotations).
mkdir -p "$T/az"
printf 'FROM scratch\nCOPY hello.txt /x\n' >"$T/az/Dockerfile"
cp "$T/app/hello.txt" "$T/az/"
check "build with Azure-style labels" "$BOSUN" build -t "$REG/azapp:1" --push \
    --label "image.base.ref.name=$REG/base:1" --label "image.base.digest=$BASE1" "$T/az"
expect_exit 0 "check azure-labelled image" "$BOSUN" base check --format json "$REG/azapp:1"
printf '%s\n' "$OUT" | sed -n '/^{/,/^}/p' >"$T/c3.json"
[ "$(jq_ "$T/c3.json" 'd["status"]+" "+d["base"]["source"]')" = "stale config labels (Azure Docker task)" ] &&
    ok "Azure labels read (stale against base:1 now)" || fail "azure labels" "$(cat "$T/c3.json")"

# Multi-platform base: an index of this machine's platform and another one.
mkindex() { # DIR VARIANT_OTHER VARIANT_SELF -> layout with tag 1
    "$PYTHON" - "$T/bb" "$1" "$2" "$3" <<'PY'
import hashlib, json, os, shutil, sys
src, dst, vo, vs = sys.argv[1:5]
shutil.rmtree(dst, ignore_errors=True); shutil.copytree(src, dst)
b = os.path.join(dst, "blobs", "sha256")
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
idx = json.load(open(os.path.join(dst, "index.json")))
man = json.load(open(os.path.join(b, idx["manifests"][0]["digest"][7:])))
cfg = json.load(open(os.path.join(b, man["config"]["digest"][7:])))
self_arch = cfg["architecture"]; other = "arm64" if self_arch != "arm64" else "amd64"
ents = []
for arch, v in ((self_arch, vs), (other, vo)):
    c = dict(cfg, architecture=arch); c["config"] = dict(cfg["config"], Env=cfg["config"]["Env"] + ["REV=" + v])
    cd, cs = put(json.dumps(c, separators=(",", ":")).encode())
    m = dict(man, config=dict(man["config"], digest=cd, size=cs))
    md, ms = put(json.dumps(m, separators=(",", ":")).encode())
    ents.append({"mediaType": man["mediaType"], "digest": md, "size": ms, "platform": {"os": "linux", "architecture": arch}})
i = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ents}
idd, iss = put(json.dumps(i, separators=(",", ":")).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": i["mediaType"], "digest": idd, "size": iss, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}, open(os.path.join(dst, "index.json"), "w"))
PY
}
mkindex "$T/mp1" a a
check "push multi-platform mbase:1" "$BOSUN" copy "oci:$T/mp1:1" "$REG/mbase:1"
M1=$(sk_digest "$REG/mbase:1")
printf 'FROM %s/mbase:1\nCOPY hello.txt /hello.txt\n' "$REG" >"$T/app/Dockerfile.m"
check "build mapp on the multi-platform base" "$BOSUN" build -f "$T/app/Dockerfile.m" -t "$REG/mapp:1" --push "$T/app"
expect_exit 0 "mapp up-to-date" "$BOSUN" base check "$REG/mapp:1"
expect_out "mapp up-to-date at first" "mapp:1: up-to-date"
mkindex "$T/mp2" b a
check "push mbase:1 with only the other platform changed" "$BOSUN" copy "oci:$T/mp2:1" "$REG/mbase:1"
M2=$(sk_digest "$REG/mbase:1")
[ "$M1" != "$M2" ] && ok "the index digest changed" || fail "index unchanged"
expect_exit 0 "check mapp" "$BOSUN" base check --fail-if-stale "$REG/mapp:1"
expect_out "other platform's change does not count" "mapp:1: up-to-date"
mkindex "$T/mp3" b b
check "push mbase:1 with this platform changed" "$BOSUN" copy "oci:$T/mp3:1" "$REG/mbase:1"
expect_exit 1 "this platform's change counts" "$BOSUN" base check --fail-if-stale "$REG/mapp:1"
expect_out "stale after own platform changed" "mapp:1: stale"

# Bad input and unreachable registries.
DEAD=$(free_port)
check "build with a base on a dead registry" "$BOSUN" build -t "$REG/dead:1" --push \
    --label "org.opencontainers.image.base.name=127.0.0.1:$DEAD/x:1" --label "org.opencontainers.image.base.digest=$BASE1" "$T/az"
expect_exit 4 "unreachable base registry exits 4" "$BOSUN" base check --retries 0 "$REG/dead:1"
expect_out "error names the base" "127.0.0.1:$DEAD/x"
expect_exit 3 "missing image exits 3" "$BOSUN" base check "oci:$T/nonexistent:1"
expect_exit 2 "no image is a usage error" "$BOSUN" base check
expect_exit 2 "unknown subcommand" "$BOSUN" base frob
check "base --help" "$BOSUN" base --help
check "base check --help" "$BOSUN" base check --help
finish
