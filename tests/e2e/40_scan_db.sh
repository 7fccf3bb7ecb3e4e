#!/usr/bin/env bash
# bosun db build/info and bosun scan on real data: the Go vulnerability
# database, Debian's Go binaries, Alpine's secdb; policy, exit codes, and
# reports checked by schema validators and xmllint.
set -u
. "$(dirname "$0")/../lib/common.sh"
. "$TESTLIB/images.sh"

T=$(tmpdir_new scan)
export XDG_CACHE_HOME="$T/xdg"
GOZIP="$SHARED/data/vulndata/osv-go-all.zip"
SCH="$SHARED/data/schemas"

# ---- database from the Go zip: every record accounted for
check "db build go zip" "$BOSUN" db build --osv "$GOZIP" -o "$T/go.db"
expect_out "4274 records + 17 withdrawn = 4291" '4274 records \(17 withdrawn dropped, 0 rejected\)'
n_zip=$(unzip -Z1 "$GOZIP" | grep -c '\.json$')
n_wd=$(cd "$T" && unzip -o -q "$GOZIP" -d gojson && grep -l '"withdrawn"' gojson/*.json | wc -l)
[ "$n_zip" -eq 4291 ] && [ "$n_wd" -eq 17 ] && ok "zip holds 4291 records, 17 withdrawn (independent count)" || fail "independent count" "$n_zip $n_wd"
check "db info" "$BOSUN" db info "$T/go.db"
expect_out "db info counts" '"records":4274'
expect_out "db info schema" 'schema_version: 2'

# ---- bad input: not SQLite, wrong schema, malformed and oversized records
echo "not a database" >"$T/bad.db"
expect_exit 3 "db info on garbage exits 3" "$BOSUN" db info "$T/bad.db"
expect_out "clear message" 'not a bosun vulnerability database'
sqlite3_ok=$("$PYTHON" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table meta(key,value)"); c.execute("insert into meta values(\"schema_version\",\"99\")"); c.commit()' "$T/schema99.db" && echo y)
expect_exit 3 "wrong schema version exits 3" "$BOSUN" scan --db "$T/schema99.db" "dir:$T"
expect_out "names the schema" 'schema version 99'
# A database (from a registry, say) whose schema would run code of its own:
# "affected" an endless recursive view. bosun runs no view: exit 3, at once.
"$PYTHON" - "$T/view.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '2');
CREATE TABLE vulns(id TEXT, summary TEXT, aliases TEXT, severity TEXT, vector TEXT, score REAL);
CREATE VIEW affected AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
  SELECT 'X' AS id, 'Debian:12' AS ecosystem, 'p' AS name, NULL AS ranges, NULL AS versions, NULL AS severity FROM c;
""")
c.commit()
PY
mkdir -p "$T/viewroot/var/lib/dpkg" "$T/viewroot/etc"
printf 'ID=debian\nVERSION_ID="12"\n' >"$T/viewroot/etc/os-release"
printf 'Package: p\nStatus: install ok installed\nVersion: 1\n\n' >"$T/viewroot/var/lib/dpkg/status"
expect_exit 3 "a database whose schema holds a view is refused" timeout 60 "$BOSUN" scan --db "$T/view.db" --db-max-age 0 "dir:$T/viewroot"
expect_out "clear message" 'not a bosun vulnerability database'
mkdir -p "$T/feed"
printf '{"id": "BAD-1", "affected": 5}' >"$T/feed/bad1.json"
printf '{not json' >"$T/feed/bad2.json"
"$PYTHON" - "$T/feed/bomb.json" <<'PY'
import sys
open(sys.argv[1], "w").write('{"id":"X-1","details":"' + "A" * (5 << 20) + '"}')
PY
(cd "$T/feed" && zip -q -9 ../bomb.zip bomb.json bad1.json bad2.json)
expect_exit 0 "malformed and oversized records are skipped" "$BOSUN" db build --osv "$T/bomb.zip" -o "$T/bomb.db"
expect_out "skipped and counted" '0 records .*3 rejected'
printf 'PK\003\004garbage' >"$T/trunc.zip"
expect_exit 3 "a broken zip exits 3" "$BOSUN" db build --osv "$T/trunc.zip" -o "$T/x.db"

# ---- Go binaries from Debian packages in a dir: root
mkdir -p "$T/root/usr/bin"
cp /usr/bin/docker-registry "$T/root/usr/bin/"
check "scan dir: with docker-registry" "$BOSUN" scan --db "$T/go.db" --format json -o "$T/go.json" "dir:$T/root"
gover=$(go version /usr/bin/docker-registry 2>/dev/null | awk '{print $2}' || true)
"$PYTHON" - "$T/go.json" "$GOZIP" <<'PY' && ok "stdlib findings match the records' ranges (independent check)" || fail "stdlib findings vs records"
import json, sys, zipfile, random
rep = json.load(open(sys.argv[1]))
z = zipfile.ZipFile(sys.argv[2])
std = [p for p in rep["packages"] if p["name"] == "stdlib"]
assert len(std) == 1, std
ver = std[0]["version"]
def key(v):
    main, _, pre = v.partition("-")
    nums = [int(x) for x in main.split(".")] + [0] * 3
    return (nums[:3], 0 if pre else 1, pre)
def affected(rec):
    for a in rec.get("affected", []):
        if a["package"]["name"] != "stdlib":
            continue
        for r in a.get("ranges", []):
            state = False
            evs = sorted(r["events"], key=lambda e: key(list(e.values())[0]) if list(e.values())[0] != "0" else ([-1], 0, ""))
            for e in evs:
                k, v = list(e.items())[0]
                if k == "introduced" and (v == "0" or key(ver) >= key(v)): state = True
                if k == "fixed" and key(ver) >= key(v): state = False
            if state: return True
    return False
found = {f["id"] for f in rep["findings"] if f["package"] == "stdlib"}
expected = set()
for n in z.namelist():
    rec = json.loads(z.read(n))
    if "withdrawn" in rec: continue
    if affected(rec): expected.add(rec["id"])
print("stdlib", ver, len(found), "found,", len(expected), "expected")
assert len(found) > 20
assert found == expected, (sorted(found - expected)[:5], sorted(expected - found)[:5])
PY

# ---- the same binary inside an image (oci: and docker-archive:)
mkdir -p "$T/layer/usr/bin" && cp /usr/bin/docker-registry "$T/layer/usr/bin/"
tar -C "$T/layer" -cf "$T/layer.tar" . && gzip -n "$T/layer.tar"
"$PYTHON" - "$T" <<'PY'
import hashlib, json, os, sys
t = sys.argv[1]; d = os.path.join(t, "img"); b = os.path.join(d, "blobs", "sha256"); os.makedirs(b)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
lay = open(os.path.join(t, "layer.tar.gz"), "rb").read()
ld, ls = put(lay)
import gzip
diff = "sha256:" + hashlib.sha256(gzip.decompress(lay)).hexdigest()
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff]}, "config": {}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}]}).encode())
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
PY
check "scan oci: image with the Go binary" "$BOSUN" scan --db "$T/go.db" --format json -o "$T/img.json" "oci:$T/img:1"
a=$("$PYTHON" -c 'import json,sys; print(sorted(f["id"] for f in json.load(open(sys.argv[1]))["findings"]))' "$T/go.json")
b=$("$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sorted(f["id"] for f in r["findings"]))' "$T/img.json")
[ "$a" = "$b" ] && ok "image and dir: give the same findings" || fail "image vs dir findings"
grep -qE '"layer":[[:space:]]*"sha256:' "$T/img.json" && ok "findings carry their layer digest" || fail "layer digest missing"
check "docker-archive: target" "$BOSUN" copy "oci:$T/img:1" "docker-archive:$T/img.tar"
check "scan docker-archive:" "$BOSUN" scan --db "$T/go.db" --format json -o "$T/arch.json" "docker-archive:$T/img.tar"
c=$("$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sorted(f["id"] for f in r["findings"]))' "$T/arch.json")
[ "$a" = "$c" ] && ok "docker-archive gives the same findings" || fail "archive findings differ"
printf 'not a tar at all, just text' | gzip -n >"$T/img/blobs/sha256/junk"
expect_exit 3 "missing target layout exits 3" "$BOSUN" scan --db "$T/go.db" "oci:$T/nonexistent:1"

# ---- Alpine secdb (YAML converted to JSON here) with an installed db written by the test
"$PYTHON" -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2],"w"))' \
    "$SHARED/data/vulndata/alpine-secdb/v3.10/main.yaml" "$T/secdb-main.json"
check "db build with alpine secdb" "$BOSUN" db build --alpine-secdb "$T/secdb-main.json" -o "$T/alpine.db"
for rel in r2 r3; do
    mkdir -p "$T/alp-$rel/lib/apk/db" "$T/alp-$rel/etc"
    printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.2\nPRETTY_NAME="Alpine Linux v3.10"\n' >"$T/alp-$rel/etc/os-release"
    printf 'P:musl\nV:1.1.22-%s\no:musl\n\nP:musl-utils\nV:1.1.22-%s\no:musl\n\nP:busybox\nV:1.30.1-r2\no:busybox\n\n' "$rel" "$rel" >"$T/alp-$rel/lib/apk/db/installed"
done
check "scan alpine r2" "$BOSUN" scan --db "$T/alpine.db" --format json -o "$T/r2.json" "dir:$T/alp-r2"
check "scan alpine r3" "$BOSUN" scan --db "$T/alpine.db" --format json -o "$T/r3.json" "dir:$T/alp-r3"
grep -qE '"id":[[:space:]]*"CVE-2019-14697"' "$T/r2.json" && ok "musl 1.1.22-r2 is affected by CVE-2019-14697" || fail "r2 finding missing"
grep -qE '"id":[[:space:]]*"CVE-2019-14697"' "$T/r3.json" && fail "r3 false positive" || ok "musl 1.1.22-r3 is not"
"$PYTHON" - "$T/r2.json" "$T/secdb-main.json" <<'PY' && ok "alpine findings are what the secdb implies" || fail "secdb findings"
import json, sys
rep = json.load(open(sys.argv[1])); sec = json.load(open(sys.argv[2]))
got = {(f["package"], f["id"]) for f in rep["findings"]}
# installed: musl 1.1.22-r2 (twice: musl and musl-utils, origin musl), busybox 1.30.1-r2
want = set()
def vkey(v):
    import re
    m = re.match(r"(\d+)\.(\d+)\.(\d+)-r(\d+)$", v)
    return tuple(int(x) for x in m.groups()) if m else None
inst = {"musl": ["musl", "musl-utils"], "busybox": ["busybox"]}
ver = {"musl": "1.1.22-r2", "busybox": "1.30.1-r2"}
for p in sec["packages"]:
    n = p["pkg"]["name"]
    if n not in inst: continue
    for fixed, ids in (p["pkg"].get("secfixes") or {}).items():
        if fixed == "0" or vkey(fixed) is None: continue
        if vkey(ver[n]) < vkey(fixed):
            for i in ids:
                for b in inst[n]: want.add((b, i.split()[0]))
assert got == want, (sorted(got - want), sorted(want - got))
PY

# ---- Ubuntu: OSV names LTS releases "Ubuntu:22.04:LTS", others "Ubuntu:23.10"
mkdir -p "$T/ubuntu-osv"
"$PYTHON" - "$T/ubuntu-osv" <<'PY'
import json, os, sys
def rec(rid, eco, fixed):
    json.dump({"id": rid, "modified": "2024-01-01T00:00:00Z",
               "affected": [{"package": {"ecosystem": eco, "name": "openssl"},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]},
              open(os.path.join(sys.argv[1], rid + ".json"), "w"))
rec("UBUNTU-T-LTS", "Ubuntu:22.04:LTS", "3.0.2-0ubuntu1.12")
rec("UBUNTU-T-PRO", "Ubuntu:Pro:22.04:LTS", "3.0.2-0ubuntu1.12+esm1")
rec("UBUNTU-T-2310", "Ubuntu:23.10", "3.0.10-1ubuntu2.2")
rec("UBUNTU-T-2404", "Ubuntu:24.04:LTS", "3.0.13-0ubuntu3.2")
PY
check "db build with Ubuntu records" "$BOSUN" db build --osv "$T/ubuntu-osv" -o "$T/ubuntu.db"
# name VERSION_ID VERSION(or -) openssl-version expected-ids
while read -r nm vid ver ossl want; do
    U="$T/ubu-$nm"; mkdir -p "$U/etc" "$U/var/lib/dpkg"
    { printf 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="%s"\n' "$vid"
      [ "$ver" = - ] || printf 'VERSION="%s"\n' "${ver//_/ }"; } >"$U/etc/os-release"
    printf 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: %s\n\n' "$ossl" \
        >"$U/var/lib/dpkg/status"
    check "scan Ubuntu $nm" "$BOSUN" scan --db "$T/ubuntu.db" --db-max-age 0 --format json -o "$T/ubu-$nm.json" "dir:$U"
    got=$("$PYTHON" -c 'import json,sys; print(",".join(sorted(f["id"] for f in json.load(open(sys.argv[1]))["findings"])) or "none")' "$T/ubu-$nm.json")
    [ "$got" = "$want" ] && ok "Ubuntu $nm matches $want" || fail "Ubuntu $nm" "got $got, want $want"
done <<'EOF2'
jammy 22.04 22.04.4_LTS_(Jammy_Jellyfish) 3.0.2-0ubuntu1.10 UBUNTU-T-LTS
jammy-fixed 22.04 22.04.4_LTS_(Jammy_Jellyfish) 3.0.2-0ubuntu1.12 none
mantic 23.10 23.10_(Mantic_Minotaur) 3.0.10-1ubuntu2.1 UBUNTU-T-2310
noble-no-VERSION 24.04 - 3.0.13-0ubuntu3.1 UBUNTU-T-2404
EOF2
"$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["os"]["ecosystem"])' "$T/ubu-jammy.json" 2>/dev/null | grep -qx 'Ubuntu:22.04:LTS' \
    && ok "report names the ecosystem Ubuntu:22.04:LTS" || fail "ecosystem in the report" "$(grep -o '"ecosystem":[^,]*' "$T/ubu-jammy.json" | head -3)"

# ---- policy and exit codes on the Go findings
expect_exit 0 "no --fail-on: exit 0" "$BOSUN" scan --db "$T/go.db" --format json -o "$T/p0.json" "dir:$T/root"
expect_exit 0 "UNKNOWN findings do not fail --fail-on LOW" "$BOSUN" scan --db "$T/go.db" --fail-on LOW -o "$T/p.txt" "dir:$T/root"
expect_exit 1 "--unknown-as HIGH --fail-on HIGH: exit 1" "$BOSUN" scan --db "$T/go.db" --unknown-as HIGH --fail-on HIGH --format junit -o "$T/fail.xml" "dir:$T/root"
expect_exit 2 "bad severity is a usage error" "$BOSUN" scan --db "$T/go.db" --fail-on SEVERE "dir:$T/root"
expect_exit 0 "--db-max-age 0 disables the age check" "$BOSUN" scan --db "$T/go.db" --db-max-age 0 -o "$T/age.txt" "dir:$T/root"
sleep 2
expect_exit 3 "refuses a database older than --db-max-age" "$BOSUN" scan --db "$T/go.db" --db-max-age 1s "dir:$T/root"
expect_out "clear message about age" 'older than --db-max-age'
first=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["findings"][0]["id"])' "$T/p0.json")
second=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["findings"][1]["id"])' "$T/p0.json")
total=$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$T/p0.json")
printf '# test ignores\n%s exp:2999-01-01 # still valid\n%s exp:2001-01-01\n' "$first" "$second" >"$T/ignore"
expect_exit 1 "ignore file: remaining findings still fail" "$BOSUN" scan --db "$T/go.db" --unknown-as HIGH --fail-on HIGH --ignore-file "$T/ignore" --format json -o "$T/ign.json" "dir:$T/root"
expect_out "expired entry says so" "ignore entry $second .*expired"
nfail=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["failing"])' "$T/ign.json")
[ "$nfail" -eq $((total - 1)) ] && ok "one ignored, the expired one counts again" || fail "ignore counts: $nfail of $total"
"$PYTHON" - "$T/vex.json" "$T/p0.json" <<'PY'
import json, sys
ids = [f["id"] for f in json.load(open(sys.argv[2]))["findings"]]
json.dump({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "test",
  "timestamp": "2024-01-01T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": i}, "products": [{"@id": "pkg:golang/stdlib"}], "status": "not_affected",
                  "justification": "vulnerable_code_not_in_execute_path"} for i in ids]}, open(sys.argv[1], "w"))
PY
check "openvex document is valid OpenVEX" "$PYTHON" -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' "$T/vex.json" "$SCH/openvex_json_schema.json"
expect_exit 0 "VEX not_affected suppresses everything" "$BOSUN" scan --db "$T/go.db" --unknown-as HIGH --fail-on HIGH --vex "$T/vex.json" --format json -o "$T/vex-out.json" "dir:$T/root"
grep -q 'vulnerable_code_not_in_execute_path' "$T/vex-out.json" && ok "justification kept in the report" || fail "justification missing"
expect_exit 0 "--ignore-unfixed with --severity LOW reports nothing here" "$BOSUN" scan --db "$T/go.db" --severity LOW --fail-on LOW --format json -o "$T/sev.json" "dir:$T/root"

# ---- reports validated by independent tools
check "several --format/-o pairs" "$BOSUN" scan --db "$T/go.db" --unknown-as HIGH --fail-on CRITICAL \
    --format sarif -o "$T/r.sarif" --format cyclonedx -o "$T/r.cdx.json" --format junit -o "$T/r.xml" \
    --format json -o "$T/r.json" --format markdown -o "$T/r.md" "oci:$T/img:1"
expect_out "base image line" 'findings? comes? from the base image'
check "JUnit valid under junit-10.xsd" xmllint --noout --schema "$SCH/junit-10.xsd" "$T/r.xml"
check "JUnit valid under windyroad XSD" xmllint --noout --schema "$SCH/junit-windyroad.xsd" "$T/r.xml"
check "failing JUnit valid under both" sh -c "xmllint --noout --schema '$SCH/junit-10.xsd' '$T/fail.xml' && xmllint --noout --schema '$SCH/junit-windyroad.xsd' '$T/fail.xml'"
"$PYTHON" - "$T/fail.xml" <<'PY' && ok "JUnit: one testcase per finding, one failure each, no dots in classname" || fail "junit rules"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
cases = r.findall(".//testcase")
assert cases and all(len(c.findall("failure")) == 1 for c in cases)
assert all("." not in c.get("classname").split("scan.", 1)[1] for c in cases)
assert all(c.find("failure").get("type") in ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL") for c in cases)
names = [c.get("name") for c in cases]; assert len(names) == len(set(names))
props = {p.get("name") for p in r.findall(".//property")}; assert {"image.digest", "db.version"} <= props
PY
check "SARIF validates" "$PYTHON" -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' "$T/r.sarif" "$SCH/sarif-schema-2.1.0.json"
check "CycloneDX validates" "$PYTHON" - "$T/r.cdx.json" "$SCH" <<'PY'
import json, sys, jsonschema
d = sys.argv[2]
schemas = {json.load(open(f"{d}/{n}"))["$id"]: json.load(open(f"{d}/{n}")) for n in ("bom-1.5.schema.json" if False else "cyclonedx-bom-1.5.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")}
main = json.load(open(f"{d}/cyclonedx-bom-1.5.schema.json"))
res = jsonschema.RefResolver.from_schema(main, store=schemas)
jsonschema.Draft7Validator(main, resolver=res).validate(json.load(open(sys.argv[1])))
bom = json.load(open(sys.argv[1])); assert bom["vulnerabilities"] and bom["components"]
PY
check "JSON report is stable and complete" "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["schema"]=="bosun.scan.v1" and r["digest"].startswith("sha256:") and all(k in r["findings"][0] for k in ("id","aliases","severity","installed_version","fixed_version","status","package","layer","from_base"))' "$T/r.json"
grep -q '^| Critical' "$T/r.md" && ok "markdown summary" || fail "markdown"

# ---- severity enrichment from an NVD feed written here
mkdir -p "$T/osv2"
cat >"$T/osv2/x.json" <<'J'
{"id":"GO-TEST-0001","aliases":["CVE-2099-0001"],"summary":"test","affected":[{"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}
J
cat >"$T/nvd.json" <<'J'
{"format":"NVD_CVE","version":"2.0","vulnerabilities":[{"cve":{"id":"CVE-2099-0001","metrics":{"cvssMetricV31":[{"cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8,"baseSeverity":"CRITICAL"}}]}}}]}
J
check "db build with --nvd" "$BOSUN" db build --osv "$T/osv2" --nvd "$T/nvd.json" -o "$T/nvd.db"
expect_out "one record enriched" '1 enriched'
expect_exit 1 "enriched CRITICAL fails --fail-on CRITICAL" "$BOSUN" scan --db "$T/nvd.db" --fail-on CRITICAL --format json -o "$T/nvd-out.json" "dir:$T/root"
grep -qE '"cvss_score":[[:space:]]*9.8' "$T/nvd-out.json" && ok "score 9.8 from the NVD vector" || fail "nvd score"
# --fail-on none means never fail, as for ship (issue 13: it used to map to
# the lowest severity, so every rated finding failed the scan).
expect_exit 0 "--fail-on none does not fail on a CRITICAL finding" "$BOSUN" scan --db "$T/nvd.db" --fail-on none --format json -o "$T/none.json" "dir:$T/root"
grep -q 'CVE-2099-0001' "$T/none.json" && ok "--fail-on none still reports the CRITICAL finding" || fail "--fail-on none report"
expect_exit 0 "--fail-on NONE with --unknown-as CRITICAL still never fails" "$BOSUN" scan --db "$T/go.db" --fail-on NONE --unknown-as CRITICAL -o "$T/none2.txt" "dir:$T/root"
expect_exit 2 "--severity with an unknown name is a usage error" "$BOSUN" scan --db "$T/go.db" --severity HIGH,SEVERE "dir:$T/root"
expect_out "the list is named" 'bad severity list "HIGH,SEVERE"'

finish
