#!/usr/bin/env bash
# bosun ship end to end against a local registry: a busybox-based base,
# a database from the Go and Alpine test data plus one demo OSV record
# written here. A clean image passes and is pushed, signed and attested
# (checked by bosun verify, skopeo and openssl); an image with a critical
# finding fails the gate, is not pushed, and the JUnit names the finding;
# CI outputs from a real run; bad input builds and pushes nothing.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new ship)
cd "$W" || exit 1
unset TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY BOSUN_KEY_PASSWORD BOSUN_PASSWORD BOSUN_USERNAME
export COSIGN_PASSWORD=shippw
SCH="$SHARED/data/schemas"
registry_start_open
make_busybox_oci "$W/base" 1 >/dev/null
"$BOSUN" copy -q "oci:$W/base:1" "$REG/base/busybox:1" >/dev/null
jq_() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
http_code() { curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/$1/manifests/$2"; }

# ---- database: Go OSV, Alpine secdb (v3.10 main), and a demo record
mkdir -p osv
cat >osv/BOSUN-DEMO-2019-0001.json <<'J'
{"schema_version": "1.6.0", "id": "BOSUN-DEMO-2019-0001", "modified": "2026-01-01T00:00:00Z",
 "aliases": ["CVE-2019-14697"], "summary": "DEMO DATA: musl x87 floating-point stack adjustment overflow",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Alpine:v3.10", "name": "musl"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.22-r3"}]}]}]}
J
"$PYTHON" -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2],"w"))' \
    "$SHARED/data/vulndata/alpine-secdb/v3.10/main.yaml" secdb.json
check "test database builds" "$BOSUN" db build --osv "$SHARED/data/vulndata/osv-go-all.zip" --osv osv \
    --alpine-secdb secdb.json -o vuln.db
"$BOSUN" keygen -q --output-key-prefix "$W/k" >/dev/null 2>&1

# ---- two applications on the busybox base
mkdir -p clean bad/lib/apk/db bad/etc
printf 'FROM %s/base/busybox:1\nARG GREETING=hi\nCOPY hello.txt /hello.txt\n' "$REG" >clean/Dockerfile
echo hello >clean/hello.txt
printf 'FROM %s/base/busybox:1\nCOPY lib /lib\nCOPY etc /etc\n' "$REG" >bad/Dockerfile
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.2\nPRETTY_NAME="Alpine Linux v3.10"\n' >bad/etc/os-release
printf 'P:musl\nV:1.1.22-r2\no:musl\n\nP:busybox\nV:1.30.1-r2\no:busybox\n\n' >bad/lib/apk/db/installed

# ---- clean image: passes, pushed to both tags, signed, attested
OUT=$("$BOSUN" ship -t "$REG/app/clean:1" -t "$REG/app/clean:latest" --build-arg GREETING=yo --db vuln.db \
      --key k.key --attest --report-dir rep-clean clean 2>ship-clean.err) && RC=0 || RC=$?
[ "$RC" -eq 0 ] && ok "clean image: exit 0" || fail "clean image: exit 0" "rc=$RC" "$(tail -20 ship-clean.err)"
DIG=$(printf '%s\n' "$OUT" | tail -1)
[[ "$DIG" == sha256:* ]] && ok "clean image: digest printed" || fail "clean image: digest printed" "$OUT"
for t in 1 latest; do
    got=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/app/clean:$t" 2>&1)
    [ "$got" = "$DIG" ] && ok "skopeo sees app/clean:$t at the shipped digest" || fail "skopeo sees app/clean:$t" "$got vs $DIG"
done
check "bosun verify: signature and the three attestations" "$BOSUN" verify --key k.pub \
    --attestation slsaprovenance --attestation vuln --attestation cyclonedx "$REG/app/clean:1"
# independently: the .sig manifest, its payload and signature through curl and openssl
ACC='Accept: application/vnd.oci.image.manifest.v1+json'
curl -sf -H "$ACC" "$REG_URL/v2/app/clean/manifests/sha256-${DIG#sha256:}.sig" >sig.json
"$PYTHON" - sig.json "$REG_URL/v2/app/clean/blobs" <<'PY' >sigparts.txt
import json, sys, base64, urllib.request
m = json.load(open(sys.argv[1])); l = m["layers"][0]
assert len(m["layers"]) == 1, "two tags in one repository are signed once"
assert l["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
payload = urllib.request.urlopen(sys.argv[2] + "/" + l["digest"]).read()
open("payload", "wb").write(payload)
open("sig.der", "wb").write(base64.b64decode(l["annotations"]["dev.cosignproject.cosign/signature"]))
print(json.loads(payload)["critical"]["image"]["docker-manifest-digest"])
PY
[ "$(cat sigparts.txt)" = "$DIG" ] && ok "the signed payload names the shipped digest" || fail "signed payload digest" "$(cat sigparts.txt)"
check "openssl verifies the signature with k.pub" openssl dgst -sha256 -verify k.pub -signature sig.der payload
curl -sf -H "$ACC" "$REG_URL/v2/app/clean/manifests/sha256-${DIG#sha256:}.att" >att.json
"$PYTHON" - att.json "$REG_URL/v2/app/clean/blobs" "$DIG" <<'PY' >attparts.txt
import json, sys, base64, urllib.request
m = json.load(open(sys.argv[1]))
assert len(m["layers"]) == 3, len(m["layers"])
types = []
for i, l in enumerate(m["layers"]):
    env = json.loads(urllib.request.urlopen(sys.argv[2] + "/" + l["digest"]).read())
    body = base64.b64decode(env["payload"])
    st = json.loads(body)
    assert st["subject"][0]["digest"]["sha256"] == sys.argv[3][7:], st["subject"]
    types.append(st["predicateType"])
    if st["predicateType"] == "https://slsa.dev/provenance/v1":
        t = env["payloadType"].encode()
        pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
        open("pae", "wb").write(pae)
        open("att_sig.der", "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
        p = st["predicate"]
        assert p["buildDefinition"]["externalParameters"]["buildArgNames"] == ["GREETING"], p
        assert "yo" not in json.dumps(p), "a build argument value leaked into the provenance"
        assert p["buildDefinition"]["resolvedDependencies"][0]["uri"].endswith("/base/busybox:1")
print(" ".join(sorted(types)))
PY
[ "$(cat attparts.txt)" = "https://cosign.sigstore.dev/attestation/vuln/v1 https://cyclonedx.org/bom https://slsa.dev/provenance/v1" ] \
    && ok "three in-toto statements about the shipped digest (provenance names the base, no build-arg values)" \
    || fail "attestations" "$(cat attparts.txt)"
check "openssl verifies the provenance DSSE signature over the PAE" openssl dgst -sha256 -verify k.pub -signature att_sig.der pae

# ---- reports of the clean run
for f in junit.xml results.json scan.sarif sbom.cdx.json summary.md report.html; do
    [ -s "rep-clean/$f" ] && ok "clean: report dir has $f" || fail "clean: report dir has $f"
done
[ "$(jq_ rep-clean/results.json '[d["stages"][s]["status"] for s in ("build","scan","policy","push","sign","attest")]')" \
    = "['passed', 'passed', 'passed', 'passed', 'passed', 'passed']" ] && ok "clean: every stage passed" \
    || fail "clean: every stage passed" "$(jq_ rep-clean/results.json 'd["stages"]')"
[ "$(jq_ rep-clean/results.json 'd["image"]["base"]["digest"]')" = "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/base/busybox:1")" ] \
    && ok "results name the base image digest" || fail "results name the base image digest"
for x in junit-10.xsd junit-windyroad.xsd; do
    check "clean junit valid under $x" xmllint --noout --schema "$SCH/$x" rep-clean/junit.xml
done
check "SARIF validates" "$PYTHON" -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' rep-clean/scan.sarif "$SCH/sarif-schema-2.1.0.json"
check "CycloneDX validates" "$PYTHON" - rep-clean/sbom.cdx.json "$SCH" <<'PY'
import json, sys, jsonschema
d = sys.argv[2]
schemas = {json.load(open(f"{d}/{n}"))["$id"]: json.load(open(f"{d}/{n}")) for n in ("cyclonedx-bom-1.5.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")}
main = json.load(open(f"{d}/cyclonedx-bom-1.5.schema.json"))
jsonschema.Draft7Validator(main, resolver=jsonschema.RefResolver.from_schema(main, store=schemas)).validate(json.load(open(sys.argv[1])))
PY

# ---- image with a critical finding: gate fails, nothing pushed
expect_exit 1 "bad image: exit 1 (policy)" "$BOSUN" ship -t "$REG/app/bad:1" --db vuln.db --key k.key --attest --report-dir rep-bad bad
expect_out "the failed gate is said" 'policy gate failed.*nothing pushed or signed'
[ "$(http_code app/bad 1)" = 404 ] && ok "bad image: the tag does not exist in the registry" || fail "bad image: tag must not exist" "$(http_code app/bad 1)"
cat >junit_bad.py <<'PY'
import json, sys, xml.etree.ElementTree as ET
res = json.load(open(sys.argv[1])); root = ET.parse(sys.argv[2]).getroot()
s = {x.get("name"): x for x in root.findall("testsuite")}
pol = s["policy"]
fails = [(c.get("name"), c.find("failure")) for c in pol.findall("testcase") if c.find("failure") is not None]
assert [n for n, f in fails] == ["musl BOSUN-DEMO-2019-0001"], [n for n, f in fails]
assert fails[0][1].get("type") == "critical" and "DEMO DATA" in fails[0][1].get("message")
assert int(pol.get("tests")) == len(res["findings"]) and int(pol.get("failures")) == 1
assert int(s["push"].get("skipped")) == 1 and int(s["sign"].get("skipped")) == 1
print("\n".join(sorted(c.get("classname") + "/" + c.get("name") for c in root.iter("testcase"))))
PY
check "bad image: JUnit names the critical finding, counts equal the findings" "$PYTHON" junit_bad.py rep-bad/results.json rep-bad/junit.xml
for x in junit-10.xsd junit-windyroad.xsd; do
    check "bad junit valid under $x" xmllint --noout --schema "$SCH/$x" rep-bad/junit.xml
done
"$BOSUN" ship -t "$REG/app/bad:1" --db vuln.db --report-dir rep-bad2 bad >/dev/null 2>&1
"$PYTHON" junit_bad.py rep-bad/results.json rep-bad/junit.xml >names1 2>&1
"$PYTHON" junit_bad.py rep-bad2/results.json rep-bad2/junit.xml >names2 2>&1
[ -s names1 ] && cmp -s names1 names2 && ok "JUnit names are identical across two runs of the same image" || fail "JUnit names stable" "$(diff names1 names2 | head)"
CHROME=$(command -v chromium || true)
if [ -n "$CHROME" ]; then
    timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
        --no-first-run --user-data-dir="$(mktemp -d "$W/chr.XXXXXX")" --dump-dom "file://$W/rep-bad/report.html" >dom.html 2>/dev/null
    grep -q 'id="count-critical"[^>]*>1<' dom.html && grep -q 'id="verdict">policy failed<' dom.html \
        && ok "report.html of the failed run shows 1 critical and the verdict" || fail "report.html counts" "$(grep -o 'id="count-[a-z]*"[^<]*<' dom.html)"
else
    fail "chromium installed"
fi

# ---- --push-on-fail: pushed, never signed, said loudly
expect_exit 1 "--push-on-fail still exits 1" "$BOSUN" ship -t "$REG/app/pushed-anyway:1" --db vuln.db --key k.key --push-on-fail --report-dir rep-pof bad
expect_out "--push-on-fail is said loudly" 'PUSHED ANYWAY'
[ "$(http_code app/pushed-anyway 1)" = 200 ] && ok "--push-on-fail pushed the tag" || fail "--push-on-fail pushed the tag"
PD=$(jq_ rep-pof/results.json 'd["image"]["digest"]')
[ "$(http_code app/pushed-anyway "sha256-${PD#sha256:}.sig")" = 404 ] && ok "--push-on-fail did not sign" || fail "--push-on-fail did not sign"
expect_exit 1 "bosun verify refuses the unsigned push" "$BOSUN" verify --key k.pub "$REG/app/pushed-anyway:1"

# ---- the scan options mean what they mean for scan (issue 13)
expect_exit 0 "--fail-on none: the bad image passes the gate" "$BOSUN" ship --no-push --output "oci:$W/none:1" \
    --db vuln.db --fail-on none --skip-db-update --report-dir rep-none bad
[ "$(jq_ rep-none/results.json 'd["policy"]["passed"]')" = True ] && ok "--fail-on none: policy passed in results.json" ||
    fail "--fail-on none: policy passed" "$(head -c 400 rep-none/results.json)"
grep -q 'CVE-' rep-none/results.json && ok "--fail-on none: the findings are still reported" || fail "--fail-on none: findings reported"
expect_exit 0 "--unknown-as, --severity, --ignore-unfixed and --db-max-age accepted" "$BOSUN" ship --no-push \
    --output "oci:$W/none:2" --db vuln.db --db-max-age 0 --severity CRITICAL,HIGH --unknown-as LOW --fail-on critical \
    --ignore-unfixed --report-dir rep-none2 clean

# ---- --no-push keeps the image in --output
expect_exit 0 "--no-push --output" "$BOSUN" ship --no-push --output "oci:$W/out:1" --db vuln.db --report-dir rep-np clean
check "the layout holds the image" "$BOSUN" inspect "oci:$W/out:1"

# ---- --cache-repo: the second run reuses the first one's steps through the registry
"$BOSUN" ship -t "$REG/app/cached:1" --cache-repo "$REG/cache/app" --db vuln.db --report-dir rep-c1 clean >/dev/null 2>&1
expect_exit 0 "--cache-repo" "$BOSUN" ship -t "$REG/app/cached:2" --cache-repo "$REG/cache/app" --db vuln.db --report-dir rep-c2 clean
jq_ rep-c2/results.json 'd["stages"]["build"]["details"]' | grep -Eq '^([1-9][0-9]*) steps?, \1 cached$' \
    && jq_ rep-c1/results.json 'd["stages"]["build"]["details"]' | grep -q ', 0 cached$' \
    && ok "--cache-repo: the first run built, the second came from the cache" || fail "--cache-repo: cached step" "$(jq_ rep-c2/results.json 'd["stages"]["build"]')"

# ---- CI outputs from a real run
OUT=$(TF_BUILD=True "$BOSUN" ship -t "$REG/app/clean:2" --db vuln.db --key k.key --report-dir rep-az clean 2>/dev/null) && RC=0 || RC=$?
printf '%s\n' "$OUT" >az.log
[ "$RC" -eq 0 ] && ok "azure run: exit 0" || fail "azure run: exit 0" "rc=$RC"
D2=$(jq_ rep-az/results.json 'd["image"]["digest"]')
grep -qx "##vso\[task.setvariable variable=imageDigest;isOutput=true\]$D2" az.log && ok "azure: imageDigest output" || fail "azure: imageDigest output" "$(cat az.log)"
grep -qx "##vso\[task.setvariable variable=policyPassed;isOutput=true\]true" az.log && ok "azure: policyPassed output" || fail "azure: policyPassed output"
grep -qx "##vso\[task.setvariable variable=signed;isOutput=true\]true" az.log && ok "azure: signed output" || fail "azure: signed output"
n_g=$(grep -c '^##\[group\]bosun ship: ' az.log); n_e=$(grep -c '^##\[endgroup\]' az.log)
[ "$n_g" = 6 ] && [ "$n_e" = 6 ] && ok "azure: one log group per stage, all closed" || fail "azure: log groups" "groups=$n_g ends=$n_e"
grep -q "^##vso\[results.publish type=JUnit;mergeResults=true;runTitle=bosun $REG/app/clean:2\]$W/rep-az/junit.xml" az.log \
    && ok "azure: results.publish of the JUnit" || fail "azure: results.publish" "$(grep results.publish az.log)"
OUT=$(TF_BUILD=True "$BOSUN" ship -t "$REG/app/bad:2" --db vuln.db --report-dir rep-az2 bad 2>/dev/null) || true
printf '%s\n' "$OUT" | grep -q '^##vso\[task.logissue type=error\]critical BOSUN-DEMO-2019-0001 in musl 1.1.22-r2, fixed in 1.1.22-r3: DEMO DATA' \
    && ok "azure: the critical finding is a pipeline error" || fail "azure: logissue for the finding" "$OUT"
printf '%s\n' "$OUT" | grep -q '^##vso\[task.logissue type=error\]bosun policy gate failed' && ok "azure: the gate failure is a pipeline error" || fail "azure: gate logissue"
JENKINS_URL=http://j/ "$BOSUN" ship -t "$REG/app/clean:3" --db vuln.db --report-dir rep-jk clean >/dev/null 2>&1
grep -q "^imageDigest=sha256\\\\:" rep-jk/bosun.properties && ok "jenkins: bosun.properties holds imageDigest" || fail "jenkins: properties" "$(cat rep-jk/bosun.properties 2>&1)"
: >gh_out
GITHUB_OUTPUT=$W/gh_out "$BOSUN" ship -t "$REG/app/clean:4" --db vuln.db --report-dir rep-gh clean >/dev/null 2>&1
grep -qx "imageDigest=$(jq_ rep-gh/results.json 'd["image"]["digest"]')" gh_out && ok "github: imageDigest in GITHUB_OUTPUT" || fail "github: output" "$(cat gh_out)"

# ---- bad input: clear error, exit 2/3, nothing pushed
expect_exit 2 "unknown severity for the gate: exit 2" "$BOSUN" ship -t "$REG/app/never:1" --db vuln.db --fail-on severe clean
expect_out "the bad severity is named" 'unknown severity "severe"'
expect_exit 3 "missing key file: exit 3" "$BOSUN" ship -t "$REG/app/never:1" --db vuln.db --key nope.key --report-dir rep-x clean
expect_out "the missing key is named" 'nope.key'
COSIGN_PASSWORD=wrong expect_exit 3 "wrong key password: exit 3" "$BOSUN" ship -t "$REG/app/never:1" --db vuln.db --key k.key --report-dir rep-x clean
touch afile
expect_exit 3 "report dir that cannot be written: exit 3" "$BOSUN" ship -t "$REG/app/never:1" --db vuln.db --report-dir afile/reports clean
expect_exit 3 "missing database: exit 3" "$BOSUN" ship -t "$REG/app/never:1" --db nope.db --report-dir rep-x clean
mkdir -p emptycache
XDG_CACHE_HOME=$W/emptycache expect_exit 3 "no --db and no cached database: exit 3" "$BOSUN" ship -t "$REG/app/never:1" --report-dir rep-x clean
expect_out "the missing database says what to run" "run 'bosun db update'"
mkdir -p cache1/bosun/db && cp vuln.db cache1/bosun/db/vuln.db
XDG_CACHE_HOME=$W/cache1 expect_exit 0 "without --db the cached database is used" "$BOSUN" ship -t "$REG/app/cachedb:1" --report-dir rep-cdb clean
expect_exit 2 "--attest without --key: exit 2" "$BOSUN" ship -t "$REG/app/never:1" --db vuln.db --attest clean
expect_exit 2 "a non-registry -t: exit 2" "$BOSUN" ship -t "oci:$W/x:1" --db vuln.db --report-dir rep-x clean
printf 'FROM %s/base/busybox:1\nCOPY nosuchfile /x\n' "$REG" >clean/Dockerfile.broken
expect_exit 3 "a build that fails: exit 3" "$BOSUN" ship -f clean/Dockerfile.broken -t "$REG/app/never:1" --db vuln.db --report-dir rep-broken clean
[ "$(jq_ rep-broken/results.json 'd["stages"]["build"]["status"]')" = error ] && ok "the broken build is recorded in results.json" || fail "broken build recorded"
check "JUnit of the broken build is valid" xmllint --noout --schema "$SCH/junit-windyroad.xsd" rep-broken/junit.xml
[ "$(http_code app/never 1)" = 404 ] && ok "nothing was pushed by the bad-input runs" || fail "nothing pushed by bad input"
finish
