#!/usr/bin/env bash
# bosun base check --scan (findings the rebuild on the new base fixes) and
# bosun base watch --rescan (findings new since the last watch, once), with
# Alpine base images whose apk database has musl 1.1.22-r2 (CVE-2019-14697
# per Alpine's secdb) in the old base and -r3 in the new one.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$(dirname "$0")/../lib/images.sh"

T=$(tmpdir_new bscan)
export XDG_CACHE_HOME="$T/xdg" # its own layer cache, not the user's
registry_start_open
XSD1="$SHARED/data/schemas/junit-10.xsd"
XSD2="$SHARED/data/schemas/junit-windyroad.xsd"
sk_digest() { skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | sed 's/^/sha256:/; s/ .*//'; }
json_part() { printf '%s\n' "$1" | sed -n '/^{/,/^}/p'; }

"$PYTHON" -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2],"w"))' \
    "$SHARED/data/vulndata/alpine-secdb/v3.10/main.yaml" "$T/secdb.json"
# The same feed before CVE-2019-14697 was published.
"$PYTHON" - "$T/secdb.json" "$T/secdb-old.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["packages"]:
    for v, ids in (p["pkg"].get("secfixes") or {}).items():
        if ids:
            ids[:] = [i for i in ids if "CVE-2019-14697" not in i]
json.dump(d, open(sys.argv[2], "w"))
PY
check "db (today)" "$BOSUN" db build --alpine-secdb "$T/secdb.json" -o "$T/full.db"
check "db (before the advisory)" "$BOSUN" db build --alpine-secdb "$T/secdb-old.json" -o "$T/old.db"

make_busybox_oci "$T/bb" 1
mkalp() { # TAG REL: push an Alpine-like base with musl 1.1.22-REL
    local d="$T/alp-$2"
    mkdir -p "$d/root/lib/apk/db" "$d/root/etc"
    printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.2\nPRETTY_NAME="Alpine Linux v3.10"\n' >"$d/root/etc/os-release"
    printf 'P:musl\nV:1.1.22-%s\no:musl\n\nP:musl-utils\nV:1.1.22-%s\no:musl\n\nP:busybox\nV:1.30.1-r2\no:busybox\n\n' "$2" "$2" >"$d/root/lib/apk/db/installed"
    printf 'FROM oci:%s/bb:1\nCOPY root/ /\n' "$T" >"$d/Dockerfile"
    "$BOSUN" -q build -t "$REG/alpine:$1" --push "$d" >/dev/null 2>&1
}
mkdir -p "$T/app" && printf 'hi\n' >"$T/app/hi"
printf 'FROM %s/alpine:3.10\nCOPY hi /hi\n' "$REG" >"$T/app/Dockerfile"
mkalp 3.10 r2 && ok "push alpine:3.10 with musl r2" || fail "push base r2"
OLD=$(sk_digest "$REG/alpine:3.10")
check "build app:1 on it" "$BOSUN" build -t "$REG/app:1" --push "$T/app"
mkalp 3.10 r3 && ok "push alpine:3.10 with musl r3" || fail "push base r3"
NEW=$(sk_digest "$REG/alpine:3.10")
check "build app2:1 on the new base" "$BOSUN" build -t "$REG/app2:1" --push "$T/app"

# ---- check --scan
AZ=$(TF_BUILD=True "$BOSUN" base check --scan --db "$T/full.db" --format json "$REG/app:1" 2>&1); RC=$?
[ "$RC" = 0 ] && ok "check --scan exits 0" || fail "check --scan" "$AZ"
json_part "$AZ" >"$T/fix.json"
check "bosun scan of the old base" "$BOSUN" scan --db "$T/full.db" --format json -o "$T/old.json" "$REG/alpine:3.10@$OLD"
check "bosun scan of the new base" "$BOSUN" scan --db "$T/full.db" --format json -o "$T/new.json" "$REG/alpine:3.10@$NEW"
"$PYTHON" - "$T/fix.json" "$T/old.json" "$T/new.json" "$OLD" "$NEW" <<'PY' && ok "fixes = old base findings - new base findings, CVE-2019-14697 among them" || fail "fixes"
import json, sys
r = json.load(open(sys.argv[1])); o = json.load(open(sys.argv[2])); n = json.load(open(sys.argv[3]))
assert r["status"] == "stale" and r["base"]["digest"] == sys.argv[4] and r["current"]["digest"] == sys.argv[5], r
k = lambda f: (f["package"], f["id"])
want = {k(f) for f in o["findings"]} - {k(f) for f in n["findings"]}
got = {k(f) for f in r["fixes"]["findings"]}
assert got == want and r["fixes"]["count"] == len(want), (got, want)
assert ("musl", "CVE-2019-14697") in got and ("musl-utils", "CVE-2019-14697") in got, got
PY
printf '%s\n' "$AZ" | grep -qE "^##vso\[task.setvariable variable=baseFixedFindings;isOutput=true\]$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["fixes"]["count"])' "$T/fix.json")\$" &&
    ok "baseFixedFindings output" || fail "baseFixedFindings" "$AZ"
expect_exit 0 "check --scan text" "$BOSUN" base check --scan --db "$T/full.db" "$REG/app:1"
expect_out "text lists the fix" "CVE-2019-14697 +[A-Z]+ +musl 1.1.22-r2 -> 1.1.22-r3"
expect_out "text gives the count" "the rebuild fixes [0-9]+ findings"
expect_exit 0 "check --scan of an up-to-date image" "$BOSUN" base check --scan --db "$T/full.db" "$REG/app2:1"
expect_no_out "no fix list when up to date" "rebuild fixes"
expect_exit 2 "--scan without --db" "$BOSUN" base check --scan "$REG/app:1"

# ---- watch --rescan
printf '%s/app:1\n%s/app2:1\n' "$REG" "$REG" >"$T/fleet.txt"
W=(base watch --images "$T/fleet.txt" --rescan --state "$T/state.json" --format json)
expect_exit 0 "first rescan (baseline)" "$BOSUN" "${W[@]}" --db "$T/old.db" --report-dir "$T/w1"
check "baseline: findings recorded, none new" "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2])); assert d["summary"]["newFindings"]==0; assert len(s["images"])==2 and all("findings" in v for v in s["images"].values())' "$T/w1/watch.json" "$T/state.json"
expect_exit 0 "second rescan, same database" "$BOSUN" "${W[@]}" --db "$T/old.db" --report-dir "$T/w2"
check "nothing new on the same database" "$PYTHON" -c 'import json,sys; assert json.load(open(sys.argv[1]))["summary"]["newFindings"]==0' "$T/w2/watch.json"
expect_exit 0 "rescan after the database gained the advisory" "$BOSUN" "${W[@]}" --db "$T/full.db" --report-dir "$T/w3"
check "the new advisory is reported as new, for the image that has it" "$PYTHON" -c '
import json,sys
d = json.load(open(sys.argv[1])); i = {x["image"].split("/")[-1]: x for x in d["images"]}
got = {(f["package"], f["id"]) for f in i["app:1"]["rescan"]["new"]}
assert got == {("musl", "CVE-2019-14697"), ("musl-utils", "CVE-2019-14697")}, got
assert i["app2:1"]["rescan"]["new"] == [] and d["summary"]["newFindings"] == 2' "$T/w3/watch.json"
for x in "$XSD1" "$XSD2"; do
    check "rescan JUnit valid under $(basename "$x")" xmllint --noout --schema "$x" "$T/w3/junit.xml"
done
check "JUnit rescan suite has the 2 new findings as failures" "$PYTHON" -c '
import sys, xml.etree.ElementTree as ET
s = [x for x in ET.parse(sys.argv[1]).getroot() if x.get("name") == "rescan"][0]
f = [c for c in s.findall("testcase") if c.find("failure") is not None]
assert len(f) == 2 and all("CVE-2019-14697" in c.get("name") for c in f), [c.get("name") for c in f]' "$T/w3/junit.xml"
grep -q 'CVE-2019-14697' "$T/w3/summary.md" && ok "summary.md lists the new finding" || fail "summary.md"
expect_exit 0 "next rescan" "$BOSUN" "${W[@]}" --db "$T/full.db" --report-dir "$T/w4"
check "reported once, not again on the next run" "$PYTHON" -c 'import json,sys; assert json.load(open(sys.argv[1]))["summary"]["newFindings"]==0' "$T/w4/watch.json"
printf 'not json' >"$T/bad-state.json"
expect_exit 3 "a corrupt state file exits 3" "$BOSUN" base watch --images "$T/fleet.txt" --rescan --db "$T/full.db" --state "$T/bad-state.json" --report-dir "$T/w5"
expect_exit 2 "--rescan without --db" "$BOSUN" base watch --images "$T/fleet.txt" --rescan
finish
