#!/usr/bin/env bash
# bosun base watch over a fleet of 50 images (20 built on an old base:1):
# shards 1/2 and 2/2 cover each image exactly once; JUnit valid under both
# XSDs with one testcase per image and a failure per stale one; watch.json
# and summary.md; YAML and kubectl fleet files; an unreachable registry
# (exit 4, the rest still reported); malformed fleet files (exit 3 + line).
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$(dirname "$0")/../lib/images.sh"

T=$(tmpdir_new watch)
registry_start_open
XSD1="$SHARED/data/schemas/junit-10.xsd"
XSD2="$SHARED/data/schemas/junit-windyroad.xsd"
sk_digest() { skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | sed 's/^/sha256:/; s/ .*//'; }

make_busybox_oci "$T/bb" 1
check "push base:1 (v1)" "$BOSUN" copy "oci:$T/bb:1" "$REG/base:1"
mkdir -p "$T/app" "$T/b2"
printf 'hello\n' >"$T/app/hello.txt"
printf 'FROM %s/base:1\nCOPY hello.txt /hello.txt\n' "$REG" >"$T/app/Dockerfile"
check "build the app on base v1" "$BOSUN" build --output "oci:$T/old:1" "$T/app"
printf 'v2\n' >"$T/b2/v2" && printf 'FROM oci:%s/bb:1\nCOPY v2 /v2\n' "$T" >"$T/b2/Dockerfile"
check "push base:1 (v2)" "$BOSUN" build -t "$REG/base:1" --push "$T/b2"
NEW=$(sk_digest "$REG/base:1")
check "build the app on base v2" "$BOSUN" build --output "oci:$T/new:1" "$T/app"

: >"$T/fleet.txt"
printf '# the fleet\n\n' >>"$T/fleet.txt"
copies_ok=1
for i in $(seq -w 0 49); do
    src=new; [ "$i" -lt 20 ] && src=old
    "$BOSUN" -q copy "oci:$T/$src:1" "$REG/fleet/app$i:1" >/dev/null 2>&1 || copies_ok=0
    printf '%s/fleet/app%s:1\n' "$REG" "$i" >>"$T/fleet.txt"
done
[ "$copies_ok" = 1 ] && ok "50 images pushed (20 on the old base)" || fail "pushing the fleet"

for s in 1 2; do
    expect_exit 0 "watch --shard $s/2" "$BOSUN" base watch --images "$T/fleet.txt" --shard "$s/2" --report-dir "$T/r$s"
    for x in "$XSD1" "$XSD2"; do
        check "shard $s JUnit valid under $(basename "$x")" xmllint --noout --schema "$x" "$T/r$s/junit.xml"
    done
done
"$PYTHON" - "$T/r1/junit.xml" "$T/r2/junit.xml" "$T/fleet.txt" "$NEW" "$REG" <<'PY' && ok "shards cover every image exactly once; 20 failures name the base and new digest" || fail "shard coverage"
import sys, xml.etree.ElementTree as ET
names, fails = [], []
for f in sys.argv[1:3]:
    s = ET.parse(f).getroot().find("testsuite")
    cases = s.findall("testcase")
    assert int(s.get("tests")) == len(cases) and int(s.get("failures")) == sum(c.find("failure") is not None for c in cases)
    assert 0 < len(cases) < 50, len(cases)
    names += [c.get("name") for c in cases]
    fails += [c for c in cases if c.find("failure") is not None]
fleet = [l.strip() for l in open(sys.argv[3]) if l.strip() and not l.startswith("#")]
assert sorted(names) == sorted(fleet) and len(set(names)) == 50, (len(names), len(set(names)))
assert len(fails) == 20
for c in fails:
    assert int(c.get("name").split("/app")[1][:2]) < 20, c.get("name")
    m = c.find("failure").get("message")
    assert sys.argv[5] + "/base:1" in m and sys.argv[4] in m, m
PY

expect_exit 1 "full watch with --fail-if-stale exits 1" "$BOSUN" base watch --images "$T/fleet.txt" --fail-if-stale --jobs 16 --report-dir "$T/all"
expect_out "summary line" "50 images \(shard 1/1\): 20 stale, 30 up-to-date, 0 unknown, 0 errors"
check "watch.json summary" "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["summary"]; assert d["schema"]=="bosun.base.watch.v1" and (s["images"],s["stale"],s["upToDate"])==(50,20,30), s; assert all(i["status"]=="stale" and i["current"]["digest"]==sys.argv[2] for i in d["images"] if "/app0" in i["image"] or "/app1" in i["image"])' "$T/all/watch.json" "$NEW"
grep -q '\*\*20 stale\*\*' "$T/all/summary.md" && [ "$(grep -c '| stale |' "$T/all/summary.md")" = 20 ] && ok "summary.md lists the 20 stale images" || fail "summary.md" "$(head -5 "$T/all/summary.md")"

# YAML fleet with Dockerfile paths and pipeline ids; CI outputs.
cat >"$T/fleet.yaml" <<EOF2
# fleet
images:
  - image: $REG/fleet/app00:1
    dockerfile: services/a/Dockerfile
    pipeline: 101
  - image: "$REG/fleet/app30:1"   # up to date
    pipeline: web-ci
  - $REG/fleet/app01:1
EOF2
OUT=$(TF_BUILD=True "$BOSUN" base watch --images "$T/fleet.yaml" --report-dir "$T/y" 2>&1)
expect_out "yaml: stale pipelines as an Azure output" '^##vso\[task.setvariable variable=baseStalePipelines;isOutput=true\]101$'
expect_out "yaml: stale count" 'variable=baseStaleCount;isOutput=true\]2$'
check "yaml: dockerfile and pipeline in watch.json" "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); i=d["images"]; assert len(i)==3 and i[0]["dockerfile"]=="services/a/Dockerfile" and i[0]["pipeline"]=="101" and i[1]["pipeline"]=="web-ci" and i[1]["status"]=="up-to-date"' "$T/y/watch.json"

# kubectl get pods -A -o json (as the API server writes it)
D00=$(sk_digest "$REG/fleet/app00:1")
cat >"$T/pods.json" <<EOF2
{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[
 {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop"},
  "spec":{"initContainers":[{"name":"init","image":"$REG/fleet/app40:1"}],
          "containers":[{"name":"web","image":"$REG/fleet/app00:1"},{"name":"side","image":"$REG/fleet/app41:1"}]},
  "status":{"containerStatuses":[{"name":"web","image":"$REG/fleet/app00:1","imageID":"$REG/fleet/app00@$D00"}]}},
 {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-2","namespace":"shop"},
  "spec":{"containers":[{"name":"web","image":"$REG/fleet/app00:1"}]},
  "status":{"containerStatuses":[{"name":"web","image":"$REG/fleet/app00:1","imageID":"$REG/fleet/app00@$D00"}]}}]}
EOF2
expect_exit 0 "kubectl pod list accepted" "$BOSUN" base watch --images "$T/pods.json" --report-dir "$T/k"
check "kubectl: 3 distinct images, running digest checked, pod named" "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); i={x["image"]:x for x in d["images"]}; assert len(i)==3, list(i); w=[x for x in i if "app00" in x][0]; assert w.endswith(sys.argv[2]) and i[w]["status"]=="stale" and i[w]["source"]=="shop/web-1/web", i[w]' "$T/k/watch.json" "$D00"

# An unreachable registry: exit 4, the others still checked and reported.
DEAD=$(free_port)
printf '%s/fleet/app00:1\n127.0.0.1:%s/gone/app:1\n%s/fleet/app30:1\n' "$REG" "$DEAD" "$REG" >"$T/dead.txt"
expect_exit 4 "unreachable registry exits 4" "$BOSUN" base watch --retries 0 --images "$T/dead.txt" --report-dir "$T/d"
expect_out "the error names the registry" "127.0.0.1:$DEAD"
check "the others are still reported" "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); s=[x["status"] for x in d["images"]]; assert s==["stale","error","up-to-date"], s; assert d["images"][1]["errorCode"]==4' "$T/d/watch.json"
check "JUnit with an error still valid (windyroad)" xmllint --noout --schema "$XSD2" "$T/d/junit.xml"
grep -q '<error message=.*127.0.0.1:'"$DEAD" "$T/d/junit.xml" && ok "junit <error> for the unreachable image" || fail "junit error"

# Malformed fleet files: exit 3 with the line.
printf '{"images": [\n  "%s/fleet/app00:1",\n  "x" "y"\n]}\n' "$REG" >"$T/bad.json"
expect_exit 3 "malformed JSON exits 3" "$BOSUN" base watch --images "$T/bad.json" --report-dir "$T/b"
expect_out "with its line" "bad.json:3: invalid JSON"
printf 'images:\n  - image: a/b:1\n     pipeline: 3\n' >"$T/bad.yaml"
expect_exit 3 "bad YAML indentation exits 3" "$BOSUN" base watch --images "$T/bad.yaml" --report-dir "$T/b"
expect_out "with its line" "bad.yaml:3: unexpected indentation"
printf 'a/b:1\n\n# ok\nBad Ref:1\n' >"$T/bad.txt"
expect_exit 3 "bad list line exits 3" "$BOSUN" base watch --images "$T/bad.txt" --report-dir "$T/b"
expect_out "with its line" "bad.txt:4: "
printf 'a/b:1\nUPPER/case:1\n' >"$T/bad2.txt"
expect_exit 3 "invalid reference exits 3" "$BOSUN" base watch --images "$T/bad2.txt" --report-dir "$T/b"
expect_out "with its line" "bad2.txt:2: "
: >"$T/empty.txt"
expect_exit 3 "empty fleet exits 3" "$BOSUN" base watch --images "$T/empty.txt" --report-dir "$T/b"
expect_exit 2 "bad --shard" "$BOSUN" base watch --images "$T/fleet.txt" --shard 3/2
expect_exit 2 "--images is required" "$BOSUN" base watch
check "watch --help" "$BOSUN" base watch --help
finish
