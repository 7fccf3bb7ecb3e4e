#!/usr/bin/env bash
# bosun ship's reports and CI outputs, rendered from a results document
# (bosun ship --from-results): JUnit under both XSDs (xmllint) and parsed
# back; the HTML report rendered by headless Chromium at 1280x800 and
# 390x844 with its counts read from the DOM; Azure logging commands decoded
# the way the agent decodes them; the Jenkins properties read by Java's
# Properties (groovy); GitHub output files parsed with the runner's rules.
set -u
source "$(dirname "$0")/../lib/common.sh"

W=$(tmpdir_new ship-reports)
cd "$W" || exit 1
unset TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY

# A results document: 23 findings (2 critical, 5 high, 9 medium, 6 low,
# 1 unknown; one low suppressed), a failing gate at "high", a title with
# markup in it, an image reference with ';', ']' and a line break (to test
# the escaping of every output channel).
cat >gen.py <<'PY'
import json, sys
sevs = ["critical"]*2 + ["high"]*5 + ["medium"]*9 + ["low"]*6 + ["unknown"]
pk = ["openssl", "libc6", "zlib1g", "busybox", "golang.org/x/net", "github.com/gin-gonic/gin", "libxml2", "curl"]
ref = sys.argv[1]
passed = sys.argv[2] == "pass"
f = []
for i, s in enumerate(sevs):
    if passed and s in ("critical", "high"):
        continue
    p = pk[i % len(pk)]
    f.append({"id": "CVE-2024-%05d" % (1000 + i * 37), "aliases": ["GHSA-%04x-abcd-efgh" % i] if i % 3 == 0 else [],
              "severity": s, "package": p, "installed": "1.%d.%d" % (i, i * 3),
              "fixed": ("1.%d.%d" % (i, i * 3 + 1)) if i % 4 else "",
              "layer": "sha256:%064x" % (0xabc0 + i % 3), "fromBase": i % 3 != 2,
              "title": ("<script>alert(1)</script> & overflow in %s's \"parser\"" % p) if i == 0
                       else "Denial of service in %s via crafted input" % p,
              "failing": s in ("critical", "high"), "suppressed": i == 21})
doc = {"schemaVersion": 1, "tool": "bosun test", "created": "2026-11-28T16:00:00Z",
       "image": {"ref": ref, "tags": [ref], "pushed": passed, "platform": "linux/amd64",
                 "digest": "sha256:3f1a2b9c0d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f7",
                 "base": {"name": "docker.io/library/debian:12-slim", "digest": "sha256:" + "ab" * 32,
                          "created": "2026-10-01T00:00:00Z", "ageDays": 58, "maxAgeDays": 30}},
       "policy": {"failOn": "high", "passed": passed, "pushOnFail": False},
       "database": {"version": "2026-11-27T03:00:00Z"},
       "stages": {"build": {"status": "passed", "duration": 12.4, "details": "3 layers"},
                  "scan": {"status": "passed", "duration": 2.1, "details": "212 packages"},
                  "policy": {"status": "passed" if passed else "failed", "duration": 0.01},
                  "push": {"status": "passed" if passed else "skipped", "duration": 1.5},
                  "sign": {"status": "passed" if passed else "skipped", "duration": 0.3},
                  "attest": {"status": "passed" if passed else "skipped", "duration": 0.4}},
       "findings": f,
       "signing": {"key": "cosign.key" if passed else None, "keyId": "SHA256:abc" if passed else None,
                   "signed": [ref + "@sha256:3f1a"] if passed else [],
                   "attestations": ["https://slsa.dev/provenance/v1"] if passed else []}}
json.dump(doc, sys.stdout, indent=1)
PY
REF=$'reg.example:5000/team/app;x]y\nz:1.0'
"$PYTHON" gen.py "$REF" fail >fail.json
"$PYTHON" gen.py "reg.example:5000/team/app:1.0" pass >pass.json

# ---- rendering, exit code follows the gate
expect_exit 1 "a failed gate in the results exits 1" "$BOSUN" ship --from-results fail.json --report-dir out
for f in results.json junit.xml summary.md report.html; do
    [ -s "out/$f" ] && ok "report dir has $f" || fail "report dir has $f"
done
expect_exit 0 "a passed gate exits 0" "$BOSUN" ship --from-results pass.json --report-dir outp
expect_exit 0 "results.json round-trips through bosun" "$BOSUN" ship --from-results outp/results.json --report-dir outp2
check "re-rendered results.json is identical" cmp outp/results.json outp2/results.json

# ---- JUnit
for x in junit-10.xsd junit-windyroad.xsd; do
    check "junit (failed gate) valid under $x" xmllint --noout --schema "$SHARED/data/schemas/$x" out/junit.xml
    check "junit (passed gate) valid under $x" xmllint --noout --schema "$SHARED/data/schemas/$x" outp/junit.xml
done
cat >junit_check.py <<'PY'
import json, sys, xml.etree.ElementTree as ET
res = json.load(open(sys.argv[1]))
root = ET.parse(sys.argv[2]).getroot()
suites = {s.get("name"): s for s in root.findall("testsuite")}
assert list(suites) == ["build", "scan", "policy", "push", "sign", "attest"], list(suites)
fs = res["findings"]
pol = suites["policy"]
failing = [f for f in fs if f["failing"] and not f["suppressed"]]
assert int(pol.get("failures")) == len(failing), (pol.get("failures"), len(failing))
assert int(pol.get("tests")) == len(fs) == len(pol.findall("testcase"))
assert int(suites["scan"].get("tests")) == len(fs)
assert int(suites["scan"].get("skipped")) == sum(f["suppressed"] for f in fs)
names = [c.get("name") for c in pol.findall("testcase")]
for f in failing:
    name = "%s %s" % (f["package"], f["id"])
    c = [c for c in pol.findall("testcase") if c.get("name") == name][0]
    fl = c.find("failure")
    assert fl is not None and fl.get("type") == f["severity"] and fl.get("message") == f["title"], name
for c in root.iter("testcase"):
    assert "." not in c.get("classname").split(".", 1)[1], c.get("classname")
    float(c.get("time"))
for s in suites.values():
    props = {p.get("name"): p.get("value") for p in s.find("properties")}
    assert props["image.digest"] == res["image"]["digest"]
    assert props["db.version"] == res["database"]["version"]
print("\n".join(names))
PY
check "junit counts equal the findings; failures carry severity and title" \
    "$PYTHON" junit_check.py out/results.json out/junit.xml
"$PYTHON" junit_check.py out/results.json out/junit.xml >names1 2>/dev/null
"$BOSUN" ship --from-results fail.json --report-dir out3 >/dev/null 2>&1
"$PYTHON" junit_check.py out3/results.json out3/junit.xml >names2 2>/dev/null
check "junit testcase names are stable across runs" cmp names1 names2
if grep -q 'openssl CVE-2024-01000' names1; then ok "junit names the critical finding"; else fail "junit names the critical finding"; fi

# ---- HTML: self-contained, rendered by Chromium
if grep -Eiq '(src|href)=|<link|@import|url\(' out/report.html; then
    fail "report.html references no external assets" "$(grep -Eio '.{30}(src|href)=.{30}|<link.{40}|@import.{30}|url\(.{30}' out/report.html | head -3)"
else
    ok "report.html references no external assets"
fi
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    fail "chromium installed (apt-get install chromium)"
else
    chrome() {
        timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
            --disable-component-update --no-first-run --user-data-dir="$(mktemp -d "$W/chr.XXXXXX")" "$@" 2>/dev/null
    }
    for size in 1280,800 390,844; do
        chrome --window-size=$size --screenshot="$W/report-$size.png" "file://$W/out/report.html" >/dev/null
        want="${size/,/ x }"
        if file "$W/report-$size.png" 2>/dev/null | grep -q "PNG image data, $want,"; then
            ok "screenshot at $size"
        else
            fail "screenshot at $size" "$(file "$W/report-$size.png" 2>&1)"
        fi
    done
    if [ -n "${BOSUN_SHOTS:-}" ]; then cp "$W"/report-*.png "$BOSUN_SHOTS"/; fi
    chrome --dump-dom "file://$W/out/report.html" >dom.html
    chrome --dump-dom "file://$W/outp/report.html" >domp.html
    cat >dom_check.py <<'PY'
import json, sys
from html.parser import HTMLParser
res = json.load(open(sys.argv[1]))
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.ids = {}; s.cur = None; s.rows = []; s.th_buttons = 0; s.in_th = False
        s.scripts_in_body = 0; s.tags = []
    def handle_starttag(s, tag, a):
        a = dict(a); s.tags.append(tag)
        if "id" in a: s.cur = a["id"]; s.ids.setdefault(a["id"], "")
        if tag == "tr" and "finding" in (a.get("class") or "").split(): s.rows.append(a)
        if tag == "th": s.in_th = True
        if tag == "button" and s.in_th: s.th_buttons += 1
    def handle_endtag(s, tag):
        if tag == "th": s.in_th = False
        s.cur = None
    def handle_data(s, d):
        if s.cur: s.ids[s.cur] += d
p = P(); p.feed(open(sys.argv[2]).read())
fs = res["findings"]
want = {k: 0 for k in ("critical", "high", "medium", "low", "unknown")}
for f in fs:
    if not f["suppressed"]: want[f["severity"]] += 1
for k, v in want.items():
    assert p.ids.get("count-" + k, "").strip() == str(v), (k, p.ids.get("count-" + k), v)
assert p.ids["count-total"].strip() == str(sum(want.values()))
assert p.ids["count-failing"].strip() == str(sum(1 for f in fs if f["failing"] and not f["suppressed"]))
assert len(p.rows) == len(fs), (len(p.rows), len(fs))
for k in want:
    assert sum(1 for r in p.rows if r["data-sev"] == k) == sum(1 for f in fs if f["severity"] == k)
assert p.ids["image-digest"].strip() == res["image"]["digest"]
assert p.ids["verdict"].strip() == ("passed" if res["policy"]["passed"] else "policy failed")
if fs:
    assert p.th_buttons == 7, p.th_buttons   # the sorting script ran
assert "script" not in [t for t in p.tags[p.tags.index("body"):] if t == "script"][1:]
assert ("signed" in p.ids["signed"]) and (("not signed" in p.ids["signed"]) != bool(res["signing"]["signed"]))
print("ok")
PY
    check "DOM: counts, rows, digest, verdict (failed gate)" "$PYTHON" dom_check.py out/results.json dom.html
    check "DOM: counts, rows, digest, verdict (passed gate, signed)" "$PYTHON" dom_check.py outp/results.json domp.html
    if grep -q '<script>alert(1)' dom.html; then fail "markup in a finding title is escaped"; else ok "markup in a finding title is escaped"; fi
    grep -q '&lt;script&gt;alert(1)' dom.html && ok "escaped title is shown as text" || fail "escaped title is shown as text"
fi

# ---- Azure Pipelines
OUT=$(TF_BUILD=True "$BOSUN" ship --from-results fail.json --report-dir az 2>/dev/null) && RC=0 || RC=$?
printf '%s\n' "$OUT" >az.log
[ "$RC" -eq 1 ] && ok "azure: exit 1 on the failed gate" || fail "azure: exit 1 on the failed gate" "rc=$RC"
cat >az_check.py <<'PY'
import json, os, sys
# The agent's parser: command ends at the first ']', properties split on ';',
# values and data unescaped ; CR LF ] then %AZP25.
def unescape(s):
    for tok, rep in ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D")):
        s = s.replace(rep, tok)
    return s.replace("%AZP25", "%")
def parse(line):
    i = line.index("##vso[")
    rb = line.index("]", i)
    info = line[i + 6:rb]
    name, _, props = info.partition(" ")
    pr = {}
    for p in filter(None, props.split(";")):
        k, _, v = p.partition("=")
        pr[k] = unescape(v)
    return name, pr, unescape(line[rb + 1:])
res = json.load(open(sys.argv[1]))
repdir = os.path.realpath(sys.argv[3])
cmds = [parse(l) for l in open(sys.argv[2]).read().split("\n") if "##vso[" in l]
vars_ = {p["variable"]: (p["isOutput"], d) for n, p, d in cmds if n == "task.setvariable"}
fs = [f for f in res["findings"] if not f["suppressed"]]
want = {"imageRef": res["image"]["ref"], "imageDigest": res["image"]["digest"],
        "findingsCritical": str(sum(f["severity"] == "critical" for f in fs)),
        "findingsHigh": str(sum(f["severity"] == "high" for f in fs)),
        "findingsMedium": str(sum(f["severity"] == "medium" for f in fs)),
        "findingsLow": str(sum(f["severity"] == "low" for f in fs)),
        "policyPassed": "true" if res["policy"]["passed"] else "false",
        "signed": "true" if res["signing"]["signed"] else "false", "reportDir": repdir}
for k, v in want.items():
    assert vars_.get(k) == ("true", v), (k, vars_.get(k), v)
issues = [(p, d) for n, p, d in cmds if n == "task.logissue"]
failing = [f for f in fs if f["failing"]]
assert len(issues) == len(failing) + (0 if res["policy"]["passed"] else 1), len(issues)
assert all(p["type"] == "error" for p, d in issues)
assert any("policy gate failed" in d and res["image"]["ref"] in d for p, d in issues)
for f in failing:
    assert any(f["id"] in d and f["title"] in d for p, d in issues), f["id"]
up = [d for n, p, d in cmds if n == "task.uploadsummary"]
assert up == [os.path.join(repdir, "summary.md")], up
pub = [(p, d) for n, p, d in cmds if n == "results.publish"]
assert len(pub) == 1 and pub[0][0]["type"] == "JUnit" and pub[0][0]["mergeResults"] == "true"
assert pub[0][0]["runTitle"] == "bosun " + res["image"]["ref"], pub[0][0]
assert pub[0][1] == os.path.join(repdir, "junit.xml")
raw = open(sys.argv[2]).read()
assert "imageRef;isOutput=true]reg.example:5000/team/app;x]y%0Az:1.0\n" in raw
print("ok")
PY
check "azure: every ##vso line decodes to the right name, value, isOutput" "$PYTHON" az_check.py fail.json az.log az
n=$(grep -c '##vso\[' az.log); t=$(grep -c . az.log)
[ "$n" -eq "$t" ] && ok "azure: stdout holds only logging commands" || fail "azure: stdout holds only logging commands" "$(grep -v '##vso' az.log | head -3)"
OUT=$("$BOSUN" ship --from-results fail.json --report-dir noaz 2>/dev/null) || true
[ -z "$OUT" ] && ok "no logging commands without TF_BUILD" || fail "no logging commands without TF_BUILD" "$OUT"

# ---- Jenkins: bosun.properties read back by java.util.Properties
JENKINS_URL=http://jenkins.example/ "$BOSUN" ship --from-results fail.json --report-dir jk >/dev/null 2>&1
[ -s jk/bosun.properties ] && ok "jenkins: bosun.properties written" || fail "jenkins: bosun.properties written"
[ ! -e out/bosun.properties ] && ok "no properties file outside Jenkins" || fail "no properties file outside Jenkins"
if command -v groovy >/dev/null; then
    cat >props.groovy <<'GR'
def p = new Properties()
new File(args[0]).withInputStream { p.load(it) }
p.stringPropertyNames().sort().each { k -> println(k + "\t" + p.getProperty(k).bytes.encodeHex().toString()) }
GR
    groovy props.groovy jk/bosun.properties >props.txt 2>props.err
    cat >props_check.py <<'PY'
import json, os, sys
res = json.load(open(sys.argv[1]))
got = {}
for l in open(sys.argv[2]):
    k, h = l.rstrip("\n").split("\t")
    got[k] = bytes.fromhex(h).decode()
assert got["imageRef"] == res["image"]["ref"], got["imageRef"]
assert got["imageDigest"] == res["image"]["digest"]
assert got["policyPassed"] == "false" and got["findingsCritical"] == "2" and got["findingsHigh"] == "5"
assert got["reportDir"] == os.path.realpath(sys.argv[3])
print("ok")
PY
    check "jenkins: java.util.Properties reads back every output" "$PYTHON" props_check.py fail.json props.txt jk
else
    fail "groovy installed (apt-get install groovy)"
fi

# ---- GitHub Actions
: >gh_out; echo "# earlier step" >gh_sum
GITHUB_OUTPUT=$W/gh_out GITHUB_STEP_SUMMARY=$W/gh_sum "$BOSUN" ship --from-results fail.json --report-dir gh >/dev/null 2>&1
cat >gh_check.py <<'PY'
import json, sys
# The runner's file-command parser: NAME=VALUE or NAME<<DELIM ... DELIM.
lines = open(sys.argv[2]).read().split("\n")
out, i = {}, 0
while i < len(lines):
    l = lines[i]; i += 1
    if not l: continue
    if "<<" in l and ("=" not in l or l.index("<<") < l.index("=")):
        k, d = l.split("<<", 1); v = []
        while lines[i] != d: v.append(lines[i]); i += 1
        i += 1; out[k] = "\n".join(v)
    else:
        k, v = l.split("=", 1); out[k] = v
res = json.load(open(sys.argv[1]))
assert out["imageRef"] == res["image"]["ref"], repr(out.get("imageRef"))
assert out["findingsCritical"] == "2" and out["policyPassed"] == "false"
assert len(out) == 9, sorted(out)
print("ok")
PY
check "github: GITHUB_OUTPUT parses to the outputs (multiline value in heredoc form)" "$PYTHON" gh_check.py fail.json gh_out
head -1 gh_sum | grep -q '^# earlier step' && grep -q '^## bosun ship: policy failed' gh_sum \
    && ok "github: step summary appended" || fail "github: step summary appended" "$(head -5 gh_sum)"

# ---- bad input
echo '{"schemaVersion":1,"findings":[{"id":"X","severity":"severe"}]}' >badsev.json
expect_exit 3 "unknown severity in results: exit 3" "$BOSUN" ship --from-results badsev.json --report-dir b1
expect_out "unknown severity is named" 'unknown severity "severe"'
echo '{"schemaVersion":1,"stages":{"build":{"status":"great"}}}' >badst.json
expect_exit 3 "unknown stage status: exit 3" "$BOSUN" ship --from-results badst.json --report-dir b2
printf '{"schemaVersion":1,' >trunc.json
expect_exit 3 "truncated results: exit 3" "$BOSUN" ship --from-results trunc.json --report-dir b3
echo '{"schemaVersion":1,"image":{"tags":"x"}}' >badtype.json
expect_exit 3 "wrong type: exit 3" "$BOSUN" ship --from-results badtype.json --report-dir b4
touch afile
expect_exit 3 "report dir that is a file: exit 3" "$BOSUN" ship --from-results pass.json --report-dir afile/sub
expect_out "report dir error names the dir" 'report dir afile/sub'
mkdir ro && chmod 555 ro
if [ "$(id -u)" -eq 0 ]; then
    skip "read-only report dir" "root ignores directory permissions"
else
    expect_exit 3 "read-only report dir: exit 3" "$BOSUN" ship --from-results pass.json --report-dir ro
fi
expect_exit 3 "missing results file: exit 3" "$BOSUN" ship --from-results nope.json --report-dir b5
expect_exit 2 "unknown option: exit 2" "$BOSUN" ship --frobnicate
expect_exit 0 "--help" "$BOSUN" ship --help
expect_out "--help lists --report-dir" 'report-dir'
finish
