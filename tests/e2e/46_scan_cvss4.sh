#!/usr/bin/env bash
# CVSS v4.0 scores from OSV records, against an independent implementation
# from the npm registry (@pandatix/js-cvss) on thousands of random vectors
# (base, threat, environmental, supplemental metrics), end to end: records
# with CVSS_V4 severities -> db build -> scan -> cvss_score in the report.
# Also the examples of FIRST's specification and bad vectors.
set -u
. "$(dirname "$0")/../lib/common.sh"

T=$(tmpdir_new cvss4)
export XDG_CACHE_HOME="$T/xdg"
N=${CVSS4_VECTORS:-4000}

# ---- the oracle, installed once into the test cache
OR="${BOSUN_TEST_CACHE:-$HOME/.cache/bosun-test}/npm-js-cvss"
if [ ! -f "$OR/fixed/cvss40.js" ]; then
    if command -v npm >/dev/null && mkdir -p "$OR" &&
        (cd "$OR" && timeout 120 npm install --no-audit --no-fund --silent @pandatix/js-cvss@0.4.4 >/dev/null 2>&1); then
        # its ESM build imports "./x" without ".js", which node refuses: a fixed copy
        mkdir -p "$OR/fixed" && cp "$OR"/node_modules/@pandatix/js-cvss/dist/*.js "$OR/fixed/" &&
            sed -i -E "s#from '(\./[a-z0-9]+)'#from '\1.js'#g; s#from \"(\./[a-z0-9]+)\"#from \"\1.js\"#g" "$OR"/fixed/*.js &&
            echo '{"type":"module"}' >"$OR/fixed/package.json"
    fi
fi
HAVE_ORACLE=0
command -v node >/dev/null && [ -f "$OR/fixed/cvss40.js" ] && HAVE_ORACLE=1

# ---- vectors: FIRST's examples with their published scores, then random ones
cat >"$T/known.txt" <<'K'
CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N 9.3
CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:L 2.4
CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A 8.7
CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N 0.0
K
cp "$T/known.txt" "$T/pairs.txt"
if [ "$HAVE_ORACLE" = 1 ]; then
    cat >"$OR/gen.mjs" <<'JS'
import { CVSS40 } from "./fixed/cvss40.js";
let a = Number(process.argv[2]) >>> 0;
const rnd = () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const pick = (s) => s[Math.floor(rnd() * s.length)];
const seen = new Set();
for (let i = 0; seen.size < Number(process.argv[3]) && i < 10 * Number(process.argv[3]); i++) {
  let v = "CVSS:4.0/AV:" + pick("NALP") + "/AC:" + pick("LH") + "/AT:" + pick("NP") + "/PR:" + pick("NLH") + "/UI:" + pick("NPA") +
    "/VC:" + pick("HLN") + "/VI:" + pick("HLN") + "/VA:" + pick("HLN") + "/SC:" + pick("HLN") + "/SI:" + pick("HLN") + "/SA:" + pick("HLN");
  if (rnd() < 0.3) v += "/E:" + pick("XAPU");
  if (rnd() < 0.3) v += "/CR:" + pick("XHML") + "/IR:" + pick("XHML") + "/AR:" + pick("XHML");
  if (rnd() < 0.3) v += "/MAV:" + pick("XNALP") + "/MAC:" + pick("XLH") + "/MAT:" + pick("XNP") + "/MPR:" + pick("XNLH") + "/MUI:" + pick("XNPA") +
    "/MVC:" + pick("XHLN") + "/MVI:" + pick("XHLN") + "/MVA:" + pick("XHLN") + "/MSC:" + pick("XHLN") + "/MSI:" + pick("XSHLN") + "/MSA:" + pick("XSHLN");
  if (rnd() < 0.1) v += "/S:" + pick("XNP") + "/AU:" + pick("XNY") + "/R:" + pick("XAUI") + "/V:" + pick("XDC") + "/RE:" + pick("XLMH") + "/U:" + pick(["X", "Clear", "Green", "Amber", "Red"]);
  if (seen.has(v)) continue;
  seen.add(v);
  console.log(v + " " + new CVSS40(v).Score().toFixed(1));
}
JS
    node "$OR/gen.mjs" "${CVSS4_SEED:-20240601}" "$N" >>"$T/random.txt" 2>"$T/node.err" || { fail "oracle failed" "$(tail -3 "$T/node.err")"; finish; }
    cat "$T/random.txt" >>"$T/pairs.txt"
    ok "oracle scored $(wc -l <"$T/random.txt") random vectors"
else
    skip "random vectors against @pandatix/js-cvss" "node or the npm package is not available"
fi

# ---- records -> database -> scan of one npm package per vector
mkdir -p "$T/osv" "$T/root/node_modules"
"$PYTHON" - "$T/pairs.txt" "$T/osv" "$T/root/node_modules" <<'PY'
import json, os, sys
for i, line in enumerate(open(sys.argv[1])):
    vec, _ = line.split()
    name = "p%05d" % i
    rec = {"id": "TEST-%05d" % i, "modified": "2024-01-01T00:00:00Z", "summary": name,
           "severity": [{"type": "CVSS_V4", "score": vec}],
           "affected": [{"package": {"ecosystem": "npm", "name": name}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]}
    json.dump(rec, open(os.path.join(sys.argv[2], "TEST-%05d.json" % i), "w"))
    os.makedirs(os.path.join(sys.argv[3], name))
    json.dump({"name": name, "version": "1.0.0"}, open(os.path.join(sys.argv[3], name, "package.json"), "w"))
PY
check "db build with CVSS_V4 records" "$BOSUN" db build --osv "$T/osv" -o "$T/v.db"
check "scan" "$BOSUN" scan --db "$T/v.db" --format json -o "$T/r.json" "dir:$T/root"
"$PYTHON" - "$T/r.json" "$T/pairs.txt" "$T/known.txt" >"$T/cmp.txt" <<'PY'
import json, sys
rep = {f["title"]: f for f in json.load(open(sys.argv[1]))["findings"]}
pairs = [l.split() for l in open(sys.argv[2])]
nknown = sum(1 for _ in open(sys.argv[3]))
def rating(s):
    s = float(s)
    return "NONE" if s == 0 else "LOW" if s < 4 else "MEDIUM" if s < 7 else "HIGH" if s < 9 else "CRITICAL"
exact = off1 = worse = known_bad = sev_bad = 0
for i, (vec, want) in enumerate(pairs):
    f = rep.get("p%05d" % i)
    got = f.get("cvss_score") if f else None
    if f and f["severity"] != rating(got if got is not None else -1): sev_bad += 1
    if got is not None and round(got, 1) == float(want): exact += 1
    elif i < nknown: known_bad += 1; print("KNOWN", vec, want, got)
    elif got is not None and abs(got - float(want)) <= 0.10001: off1 += 1; print("OFF", vec, want, got)
    else: worse += 1; print("BAD", vec, want, got)
print("SUMMARY", len(pairs), exact, off1, worse, known_bad, sev_bad)
PY
read -r _ total exact off1 worse known_bad sev_bad < <(grep '^SUMMARY' "$T/cmp.txt")
diag "vectors $total: exact $exact, off by 0.1 $off1, worse $worse"
[ "$known_bad" -eq 0 ] && ok "the specification's examples score as published (9.3, 2.4, 8.7, 0.0)" || fail "known examples" "$(grep KNOWN "$T/cmp.txt")"
[ "$worse" -eq 0 ] && ok "no score differs from the oracle by more than 0.1" || fail "scores differ" "$(grep BAD "$T/cmp.txt" | head)"
# the oracle rounds its own way on exact .x5 ties; FIRST's calculator and
# bosun round the float result half up: allow such ties, at most 1 in 500
[ $((off1 * 500)) -le "$total" ] && ok "off-by-0.1 rounding ties: $off1 of $total" || fail "too many off-by-0.1 ($off1 of $total)" "$(grep OFF "$T/cmp.txt" | head)"
[ "$sev_bad" -eq 0 ] && ok "every rating matches its score's v4 range" || fail "ratings" "$sev_bad"

# ---- bad vectors: the record is kept, the severity is UNKNOWN, the build does not fail
mkdir -p "$T/bad" "$T/badroot/node_modules/q"
printf '{"name":"q","version":"1.0.0"}' >"$T/badroot/node_modules/q/package.json"
i=0
for v in "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N" "CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" \
         "CVSS:4.0/AV:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N" \
         "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/ZZ:1" "CVSS:4.0/"; do
    i=$((i + 1))
    printf '{"id":"BAD-%d","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V4","score":"%s"}],"affected":[{"package":{"ecosystem":"npm","name":"q"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}' "$i" "$v" >"$T/bad/BAD-$i.json"
done
check "db build with malformed v4 vectors" "$BOSUN" db build --osv "$T/bad" -o "$T/bad.db"
expect_out "all 6 records kept" '6 records'
check "scan" "$BOSUN" scan --db "$T/bad.db" --format json -o "$T/bad.json" "dir:$T/badroot"
"$PYTHON" -c 'import json,sys; f=json.load(open(sys.argv[1]))["findings"]; assert len(f)==6 and all(x["severity"]=="UNKNOWN" and "cvss_score" not in x for x in f), f' "$T/bad.json" \
    && ok "malformed v4 vectors give UNKNOWN, never a made-up score" || fail "bad vectors" "$(cat "$T/bad.json" | head -40)"
finish
