#!/usr/bin/env bash
# The Azure Pipelines extension (azure-pipelines/extension): every task.json
# valid under the task schema; `make vsix` packs it with tfx-cli (from the
# npm registry); the .vsix opens as a zip with its manifest, each task's
# handler and node_modules; then each task taken out of the .vsix is run the
# way the agent runs it (node on the task.json target, INPUT_* variables,
# the agent's variables, the ##vso commands read back from stdout) against a
# local registry: BosunInstall from the bundled binary and from a URL (a
# wrong SHA-256 installs nothing), BosunShip on a clean image (pushed,
# signed, imageDigest) and a vulnerable one (failed, nothing pushed),
# BosunVerify before and after a tamper, BosunBaseWatch on a stale image,
# BosunPatch on the bookworm minbase (archives unreachable: exit 4, nothing
# pushed; an empty database: nothing to patch, patched=false, the image
# unchanged); and the input-mapping branches under the task library's
# MockTestRunner.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"
source "$REPO/tests/bench/scan_rootfs.sh"

W=$(tmpdir_new azext)
cd "$W" || exit 1
unset TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY BOSUN_KEY_PASSWORD COSIGN_PASSWORD BOSUN_PASSWORD BOSUN_USERNAME
EXT="$REPO/azure-pipelines/extension"
AGENT="$REPO/tests/e2e/data/azure-ext/agent.py"
TASKS="BosunInstallV1 BosunShipV1 BosunVerifyV1 BosunBaseWatchV1 BosunPatchV1"
jq_() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
http_code() { curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/$1/manifests/$2"; }

# ---- task.json files against the schema, and against the handlers
cat >validate.py <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
bad = 0
for f in sys.argv[2:]:
    errs = list(jsonschema.Draft4Validator(schema).iter_errors(json.load(open(f))))
    for e in errs[:3]:
        print(f, list(e.absolute_path), e.message[:200])
    bad += bool(errs)
sys.exit(1 if bad else 0)
PY
check "every task.json is valid under azure-pipelines-task.schema.json" "$PYTHON" validate.py \
    "$SHARED/data/schemas/azure-pipelines-task.schema.json" "$EXT"/Bosun*V1/task.json
sed 's/"type": "multiLine"/"type": "multiline-text"/' "$EXT/BosunShipV1/task.json" >neg.json
expect_exit 1 "the validator rejects an unknown input type" "$PYTHON" validate.py "$SHARED/data/schemas/azure-pipelines-task.schema.json" neg.json
check "every input a handler reads and every output it sets is declared in its task.json; ids unique; Node20_1" "$PYTHON" - "$EXT" $TASKS <<'PY'
import json, re, sys, os
ext, tasks = sys.argv[1], sys.argv[2:]
common = open(os.path.join(ext, "common", "bosun-task.js")).read()
ids = set()
for t in tasks:
    tj = json.load(open(os.path.join(ext, t, "task.json")))
    src = open(os.path.join(ext, t, "index.js")).read()
    declared = {i["name"] for i in tj["inputs"]}
    read = set(re.findall(r"(?:getInput|getBoolInput|pathInput|strInput|linesInput|registryEnv|downloadSecureFile)\('([A-Za-z0-9]+)'", src))
    if "registryArgs(" in src:
        read |= set(re.findall(r"(?:strInput|linesInput|pathInput)\('([A-Za-z0-9]+)'", common.split("function registryArgs")[1].split("\n}\n")[0]))
    if "mirrorArgs(" in src:
        read |= set(re.findall(r"linesInput\('([A-Za-z0-9]+)'", common.split("function mirrorArgs")[1].split("\n}\n")[0]))
    assert read <= declared, (t, "undeclared inputs", read - declared)
    assert declared <= read, (t, "declared but never read", declared - read)
    outs = {o["name"] for o in tj.get("outputVariables", [])}
    set_ = set(re.findall(r"setVariable\('([A-Za-z0-9]+)'", src)) | set(re.findall(r"^\s+(base[A-Za-z]+|image[A-Za-z]+|findings[A-Za-z]+|policyPassed|signed|patched|reportDir)[:,]", src, re.M))
    assert set_ <= outs and outs <= set_ | {"baseNewFindings"}, (t, set_, outs)
    assert list(tj["execution"]) == ["Node20_1"] and tj["execution"]["Node20_1"]["target"] == "index.js"
    assert tj["name"] + "V1" == t and tj["version"]["Major"] == 1
    ids.add(tj["id"])
assert len(ids) == len(tasks)
m = json.load(open(os.path.join(ext, "vss-extension.json")))
assert sorted(c["properties"]["name"] for c in m["contributions"]) == sorted(tasks)
PY

# the example pipeline against the service schema of an organisation with
# the extension installed: the public schema plus one entry per task.json,
# built as Azure builds them (inputs by name, pick lists as enums, booleans)
cat >orgschema.py <<'PY'
import json, sys, yaml, jsonschema
schema_path, ext, yml = sys.argv[1], sys.argv[2], sys.argv[3]
tasks = sys.argv[4:]
schema = json.load(open(schema_path))
for t in tasks if tasks != ["none"] else []:
    tj = json.load(open(f"{ext}/{t}/task.json"))
    props = {}
    for i in tj["inputs"]:
        p = {"description": i["label"], "ignoreCase": "key"}
        if i["type"] in ("pickList", "radio"):
            p["enum"] = list(i["options"])
        elif i["type"] == "boolean":
            p["type"] = "boolean"
        else:
            p["type"] = "string"
        props[i["name"]] = p
    req = [i["name"] for i in tj["inputs"] if i.get("required") and not i.get("defaultValue") and "visibleRule" not in i]
    name = f"{tj['name']}@{tj['version']['Major']}"
    entry = {"properties": {"task": {"pattern": f"^{name}$", "ignoreCase": "value"},
                            "inputs": {"properties": props, "additionalProperties": False, "required": req}},
             "firstProperty": ["task"], "required": ["task", "inputs"] if req else ["task"]}
    schema["definitions"]["task"]["anyOf"].append(entry)
    schema["definitions"]["task"]["properties"]["task"]["anyOf"].append({"enum": [name]})
class StrLoader(yaml.SafeLoader):
    pass
for tag in ("bool", "int", "float", "null", "timestamp"):
    StrLoader.add_constructor("tag:yaml.org,2002:" + tag, lambda l, n: l.construct_scalar(n))
doc = yaml.load(open(yml), Loader=StrLoader)
base = jsonschema.Draft7Validator.TYPE_CHECKER
tc = base.redefine_many({
    "boolean": lambda c, v: isinstance(v, bool) or v in ("true", "false", "True", "False"),
    "number": lambda c, v: base.is_type(v, "number") or (isinstance(v, str) and v.replace(".", "", 1).lstrip("-").isdigit()),
    "integer": lambda c, v: base.is_type(v, "integer") or (isinstance(v, str) and v.lstrip("-").isdigit()),
})
V = jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=tc)
errs = list(V(schema).iter_errors(doc))
for e in errs[:3]:
    print(list(e.absolute_path), e.message[:200])
sys.exit(1 if errs else 0)
PY
SVC="$SHARED/data/schemas/azure-pipelines-service-schema.json"
EXAMPLE="$REPO/examples/app-pipeline-tasks.yml"
check "examples/app-pipeline-tasks.yml is valid under the service schema with the extension's tasks" \
    "$PYTHON" orgschema.py "$SVC" "$EXT" "$EXAMPLE" $TASKS
expect_exit 1 "the public schema alone does not know BosunShip@1 (the entries matter)" "$PYTHON" orgschema.py "$SVC" "$EXT" "$EXAMPLE" none
check "examples/patch-pipeline-tasks.yml is valid under the service schema with the extension's tasks" \
    "$PYTHON" orgschema.py "$SVC" "$EXT" "$REPO/examples/patch-pipeline-tasks.yml" $TASKS
sed 's/mode: db/mode: scan/' "$REPO/examples/patch-pipeline-tasks.yml" >neg3.yml
expect_exit 1 "the org schema rejects a BosunPatch mode outside the pick list" "$PYTHON" orgschema.py "$SVC" "$EXT" neg3.yml $TASKS
sed 's/destinations: |/destination: |/' "$REPO/examples/patch-pipeline-tasks.yml" >neg4.yml
expect_exit 1 "the org schema rejects a misspelt BosunPatch input (and the missing required one)" "$PYTHON" orgschema.py "$SVC" "$EXT" neg4.yml $TASKS
sed 's/signingKeySecureFile: cosign.key/signingKeySecretFile: cosign.key/' "$EXAMPLE" >neg1.yml
expect_exit 1 "the org schema rejects a misspelt task input" "$PYTHON" orgschema.py "$SVC" "$EXT" neg1.yml $TASKS
sed 's/failOn: high/failOn: severe/' "$EXAMPLE" >neg2.yml
expect_exit 1 "the org schema rejects a failOn outside the pick list" "$PYTHON" orgschema.py "$SVC" "$EXT" neg2.yml $TASKS

# ---- make vsix (tfx-cli and the task libraries from the npm registry)
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    skip "the extension tests" "node/npm not installed"
    finish
fi
START=$(date +%s)
# Without the registry, npm may still serve everything from its cache
# (offline mode fails fast instead of retrying for minutes).
NPM_ONLINE=1
timeout 20 npm ping >/dev/null 2>&1 || { NPM_ONLINE=""; export npm_config_offline=true; }
if ! timeout 900 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$REPO" vsix VSIX_BOSUN="$BOSUN" VSIX_OUT="$W/dist" VSIX_BUILD="$W/stage" >vsix.out 2>vsix.err; then
    if [ -z "$NPM_ONLINE" ]; then
        skip "the extension tests" "the npm registry is unreachable (npm ping) and npm's cache cannot serve make vsix: $(grep -m1 -i 'err' vsix.err)"
        finish
    fi
    fail "make vsix" "$(tail -20 vsix.err)"
    finish
fi
unset npm_config_offline
VSIX=$(grep -E "\.vsix$" vsix.out | tail -1)
case "$VSIX" in "$W/dist/bosun-azure-pipelines-"*.vsix) ok "make vsix wrote $(basename "$VSIX") ($(($(date +%s) - START)) s)" ;;
    *) fail "make vsix names the .vsix" "$VSIX" ;; esac
check "the .vsix opens as a zip: extension.vsixmanifest, each task's handler, bosun-task.js and node_modules, the bundled binary" \
    "$PYTHON" - "$VSIX" $TASKS <<'PY'
import json, sys, zipfile, xml.etree.ElementTree as ET
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = set(z.namelist())
m = ET.fromstring(z.read("extension.vsixmanifest"))
ns = {"v": "http://schemas.microsoft.com/developer/vsx-schema/2011"}
ident = m.find("v:Metadata/v:Identity", ns)
assert ident.get("Id") == "bosun-azure-pipelines", ident.attrib
assert "[Content_Types].xml" in names and "extension.vsomanifest" in names
vso = json.loads(z.read("extension.vsomanifest"))
assert sorted(c["properties"]["name"] for c in vso["contributions"]) == sorted(sys.argv[2:])
for t in sys.argv[2:]:
    tj = json.loads(z.read(f"{t}/task.json"))
    target = tj["execution"]["Node20_1"]["target"]
    for f in (target, "bosun-task.js", "icon.png", "node_modules/azure-pipelines-task-lib/task.js",
              "node_modules/azure-pipelines-task-lib/package.json"):
        assert f"{t}/{f}" in names, f"{t}/{f} missing"
    assert not any(n.startswith(f"{t}/node_modules/") and "/test/" in n and n.endswith("mock-test.js") for n in names)
assert "BosunInstallV1/node_modules/azure-pipelines-tool-lib/tool.js" in names
b = json.loads(z.read("BosunInstallV1/bin/bundle.json"))
import hashlib
assert hashlib.sha256(z.read("BosunInstallV1/bin/" + b["file"])).hexdigest() == b["sha256"]
print(ident.get("Version"), len(names), "files")
PY
rm -rf ext && mkdir ext && (cd ext && unzip -q "$VSIX")
BOSUN_SHA=$(sha256sum "$BOSUN" | cut -d' ' -f1)

# ---- the agent: variables, and a runner for one task
mkdir -p agent/tmp agent/tools agent/staging src
AGENT_VARS="\"SYSTEM_DEFAULTWORKINGDIRECTORY\": \"$W/src\", \"BUILD_SOURCESDIRECTORY\": \"$W/src\",
 \"AGENT_TEMPDIRECTORY\": \"$W/agent/tmp\", \"AGENT_TOOLSDIRECTORY\": \"$W/agent/tools\",
 \"BUILD_ARTIFACTSTAGINGDIRECTORY\": \"$W/agent/staging\", \"TF_BUILD\": \"True\", \"AGENT_VERSION\": \"3.248.0\",
 \"AGENT_OS\": \"Linux\", \"SYSTEM_HOSTTYPE\": \"build\", \"BUILD_BUILDID\": \"77\""
PATH_JSON='[]'
# task NAME TASKDIR OUT INPUTS_JSON [EXTRA_ENV_JSON]
task() {
    printf '{"vars": {%s}, "path": %s, "inputs": %s, "env": %s}\n' "$AGENT_VARS" "$PATH_JSON" "$3" "${4:-{\}}" >"$2.spec.json"
    "$PYTHON" "$AGENT" "ext/$1" "$2.spec.json" "$2" 2>"$2.err" || fail "agent.py ran $1" "$(tail -5 "$2.err")"
}
res() { jq_ "$1" "d['result']"; }
out() { jq_ "$1" "d['outputs'].get('$2')"; }

# ---- BosunInstall: the bundled binary
task BosunInstallV1 i1.json '{}'
[ "$(res i1.json)" = Succeeded ] && ok "install (bundled): Succeeded" || fail "install (bundled)" "$(jq_ i1.json 'd["message"]')" "$(jq_ i1.json 'd["stderr"]')"
IDIR=$(jq_ i1.json 'd["prependpath"][0] if d["prependpath"] else ""')
case "$IDIR" in "$W/agent/tools/bosun/"*/x64) ok "install: the tool cache dir is prepended to PATH" ;; *) fail "install: prependpath" "$IDIR" ;; esac
[ "$(sha256sum "$IDIR/bosun" 2>/dev/null | cut -d' ' -f1)" = "$BOSUN_SHA" ] && [ -x "$IDIR/bosun" ] && [ -f "$IDIR.complete" ] \
    && ok "install: the bundled binary is in the tool cache, executable, marked complete" || fail "install: cached binary" "$(ls -la "$IDIR" 2>&1)"
[ "$(out i1.json bosunPath)" = "$IDIR/bosun" ] && ok "install: output bosunPath" || fail "install: bosunPath" "$(jq_ i1.json 'd["outputs"]')"
task BosunInstallV1 i1b.json '{}'
[ "$(res i1b.json)" = Succeeded ] && grep -q "is in the tool cache" <<<"$(jq_ i1b.json 'd["stdout"]')" \
    && ok "install: a second run reuses the tool cache" || fail "install: reuse" "$(jq_ i1b.json 'd["message"]')"
task BosunInstallV1 i1c.json "{\"sha256\": \"$(printf 'f%.0s' {1..64})\"}"
[ "$(res i1c.json)" = Failed ] && grep -q "the bundled binary is $BOSUN_SHA, not" <<<"$(jq_ i1c.json 'd["message"]')" \
    && ok "install (bundled): a given sha256 must match the bundled binary" || fail "install: bundled sha" "$(jq_ i1c.json 'd["message"]')"

# ---- BosunInstall: from a URL (python http.server on 127.0.0.1)
mkdir -p www/rel && cp "$BOSUN" www/rel/bosun-linux-amd64
HPORT=$(free_port)
"$PYTHON" -m http.server --bind 127.0.0.1 --directory "$W/www" "$HPORT" >http.log 2>&1 &
HPID=$!
at_exit "kill_wait $HPID"
wait_port "$HPORT" || fail "http server started"
URL="http://127.0.0.1:$HPORT/rel/bosun-linux-amd64"
AGENT_VARS=${AGENT_VARS/agent\/tools/agent\/tools-url}
task BosunInstallV1 i2.json "{\"source\": \"url\", \"url\": \"$URL\", \"version\": \"1.2.3\", \"sha256\": \"$BOSUN_SHA\"}"
[ "$(res i2.json)" = Succeeded ] && [ "$(jq_ i2.json 'd["prependpath"]')" = "['$W/agent/tools-url/bosun/1.2.3/x64']" ] \
    && [ "$(sha256sum "$W/agent/tools-url/bosun/1.2.3/x64/bosun" | cut -d' ' -f1)" = "$BOSUN_SHA" ] \
    && ok "install (url): downloaded, checked, cached as 1.2.3 and on the PATH" || fail "install (url)" "$(jq_ i2.json 'd["message"]')" "$(jq_ i2.json 'd["stderr"]')"
grep -q '"GET /rel/bosun-linux-amd64 HTTP/1.1" 200' http.log && ok "install (url): the binary came from the URL" || fail "install (url): http log" "$(cat http.log)"
AGENT_VARS=${AGENT_VARS/agent\/tools-url/agent\/tools-bad}
ls agent/tmp >tmp.before
task BosunInstallV1 i3.json "{\"source\": \"url\", \"url\": \"$URL\", \"version\": \"1.2.3\", \"sha256\": \"$(printf '0%.0s' {1..64})\"}"
[ "$(res i3.json)" = Failed ] && grep -q "SHA-256 mismatch for bosun 1.2.3: want 0000.*, got $BOSUN_SHA; nothing installed" <<<"$(jq_ i3.json 'd["message"]')" \
    && ok "install (url): a wrong SHA-256 fails, naming both digests" || fail "install: wrong sha" "$(jq_ i3.json 'd["message"]')"
[ ! -e agent/tools-bad/bosun ] && [ "$(jq_ i3.json 'd["prependpath"]')" = "[]" ] && ls agent/tmp | cmp -s - tmp.before \
    && ok "install (url): a wrong SHA-256 installs nothing, puts nothing on the PATH and leaves no download" \
    || fail "install: wrong sha left something" "$(find agent/tools-bad agent/tmp 2>&1 | head)" "$(jq_ i3.json 'd["prependpath"]')"
task BosunInstallV1 i4.json "{\"source\": \"url\", \"url\": \"http://127.0.0.1:$HPORT/rel/nothing\", \"version\": \"1.2.3\", \"sha256\": \"$BOSUN_SHA\"}"
[ "$(res i4.json)" = Failed ] && [ ! -e agent/tools-bad/bosun ] && grep -q "download http://127.0.0.1:$HPORT/rel/nothing" <<<"$(jq_ i4.json 'd["message"]')" \
    && ok "install (url): a 404 fails with the URL, installs nothing" || fail "install: 404" "$(jq_ i4.json 'd["message"]')"
AGENT_VARS=${AGENT_VARS/agent\/tools-bad/agent\/tools-file}
cp "$BOSUN" src/bosun-artifact
task BosunInstallV1 i5.json "{\"source\": \"file\", \"file\": \"bosun-artifact\", \"version\": \"1.2.4\", \"sha256\": \"$BOSUN_SHA\"}"
[ "$(res i5.json)" = Succeeded ] && [ -x agent/tools-file/bosun/1.2.4/x64/bosun ] \
    && ok "install (file): a pipeline artifact on the agent, relative to the working directory" || fail "install (file)" "$(jq_ i5.json 'd["message"]')"
AGENT_VARS=${AGENT_VARS/agent\/tools-file/agent\/tools}
# later tasks find bosun where the agent would: the prepended tool cache dir
PATH_JSON="[\"$IDIR\"]"

# ---- registry, base, database, key, two applications (as in 60_ship_e2e.sh)
registry_start_open
make_busybox_oci "$W/base" 1 >/dev/null
"$BOSUN" copy -q "oci:$W/base:1" "$REG/base/busybox:1" >/dev/null
mkdir -p osv
cat >osv/BOSUN-DEMO-2019-0001.json <<'J'
{"schema_version": "1.6.0", "id": "BOSUN-DEMO-2019-0001", "modified": "2026-01-01T00:00:00Z",
 "aliases": ["CVE-2019-14697"], "summary": "DEMO DATA: musl x87 floating-point stack adjustment overflow",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected": [{"package": {"ecosystem": "Alpine:v3.10", "name": "musl"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.22-r3"}]}]}]}
J
"$BOSUN" db build --osv osv -o src/vuln.db >/dev/null 2>&1 || fail "test database builds"
KEYPW='s3cr;et]pw%'
COSIGN_PASSWORD="$KEYPW" "$BOSUN" keygen -q --output-key-prefix "$W/src/k" >/dev/null 2>&1
mkdir -p src/clean src/bad/lib/apk/db src/bad/etc
printf 'FROM %s/base/busybox:1\nARG GREETING=hi\nRUN echo "$GREETING" >/greeting\n' "$REG" >src/clean/Dockerfile
printf 'FROM %s/base/busybox:1\nCOPY lib /lib\nCOPY etc /etc\n' "$REG" >src/bad/Dockerfile
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.2\n' >src/bad/etc/os-release
printf 'P:musl\nV:1.1.22-r2\no:musl\n\n' >src/bad/lib/apk/db/installed

# ---- BosunShip: a clean image
task BosunShipV1 s1.json "{\"context\": \"clean\", \"tags\": \"$REG/app/clean:1\\n$REG/app/clean:latest\\n\",
  \"buildArgs\": \"GREETING=yo\", \"db\": \"vuln.db\", \"failOn\": \"high\", \"signingKey\": \"k.key\",
  \"signingKeyPassword\": \"$KEYPW\", \"reportDir\": \"rep-clean\", \"baseMaxAge\": \"100000\"}"
[ "$(res s1.json)" = Succeeded ] && ok "ship (clean): Succeeded" || fail "ship (clean)" "$(jq_ s1.json 'd["message"]')" "$(jq_ s1.json 'd["stdout"][-3000:]')"
DIG=$(out s1.json imageDigest)
for t in 1 latest; do
    [ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/app/clean:$t" 2>&1)" = "$DIG" ] \
        && ok "ship (clean): pushed app/clean:$t at the imageDigest output" || fail "ship: pushed app/clean:$t" "$DIG"
done
[ "$(out s1.json imageRef)" = "$REG/app/clean:1" ] && [ "$(out s1.json policyPassed)" = true ] && [ "$(out s1.json signed)" = true ] \
    && [ "$(out s1.json findingsCritical)" = 0 ] && [ "$(out s1.json reportDir)" = "$W/src/rep-clean" ] && [ "$(out s1.json patched)" = false ] \
    && ok "ship (clean): outputs imageRef, policyPassed, signed, findingsCritical, reportDir, patched (isOutput)" || fail "ship: outputs" "$(jq_ s1.json 'd["outputs"]')"
check "ship (clean): bosun verify accepts the signature and attestations" "$BOSUN" verify --key src/k.pub \
    --attestation slsaprovenance --attestation vuln --attestation cyclonedx "$REG/app/clean@$DIG"
jq_ s1.json 'json.dumps(d["commands"])' >s1.cmds
"$PYTHON" - s1.json "$W/src/rep-clean" "$REG/app/clean:1" <<'PY' && ok "ship (clean): JUnit to the Tests tab, summary uploaded, report.html attached" || fail "ship: publishing" "$(cat s1.cmds | head -c 2000)"
import json, sys
d = json.load(open(sys.argv[1])); rep = sys.argv[2]
c = {x[0]: x for x in d["commands"]}
p = c["results.publish"]
assert p[1]["type"] == "JUnit" and p[1]["mergeResults"] == "true" and p[1]["resultFiles"] == rep + "/junit.xml", p
assert p[1]["runTitle"] == "bosun " + sys.argv[3], p
assert c["task.uploadsummary"][2] == rep + "/summary.md"
a = c["task.addattachment"]
assert a[1] == {"type": "bosun.report", "name": "report.html"} and a[2] == rep + "/report.html", a
PY
# task-lib traces every input in task.debug lines, which the agent masks (the
# value comes from a secret variable); anywhere else it would be a leak
grep -qF "$KEYPW" <<<"$(jq_ s1.json 'd["stdout"]' | grep -v -e '^##vso\[task.setsecret\]' -e '^##vso\[task.debug\]')" \
    && fail "ship: the key password appears only in setsecret (and masked debug traces)" || ok "ship: the key password appears only in setsecret (and masked debug traces)"
grep -qF "$KEYPW" <<<"$(jq_ s1.json 'd["stdout"]' | grep '^\[command\]')" && fail "ship: the key password is not on bosun's command line" || ok "ship: the key password is not on bosun's command line"
grep -q '##\[group\]bosun ship' <<<"$(jq_ s1.json 'd["stdout"]')" && fail "ship: bosun ran without TF_BUILD (the task talks to the agent)" || ok "ship: bosun ran without TF_BUILD (the task talks to the agent)"
[ "$(grep -c 'variable=imageDigest' <<<"$(jq_ s1.json 'd["stdout"]')")" = 1 ] && ok "ship: each output set once" || fail "ship: outputs set once"

# the signing key from a secure file: the agent's ticket, the job token, the REST download
cat >securefiles.py <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
port, key, log = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "a")
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlparse(self.path); q = parse_qs(u.query)
        okp = u.path == "/org/proj-1/_apis/distributedtask/securefiles/5e5e-f11e"
        okq = q.get("ticket") == ["tkt-1"] and q.get("download") == ["true"] and "api-version" in q
        oka = self.headers.get("Authorization") == "Bearer job-token"
        log.write(f"{u.path} path={okp} query={okq} auth={oka}\n"); log.flush()
        if not oka:
            self.send_response(401); self.end_headers(); return
        if not (okp and okq):
            self.send_response(404); self.end_headers(); return
        body = open(key, "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
SPORT=$(free_port)
cp src/k.key secure.key && rm -f src/k.key.copy
"$PYTHON" securefiles.py "$SPORT" "$W/secure.key" "$W/securefiles.log" 2>securefiles.err &
SPID=$!
at_exit "kill_wait $SPID"
wait_port "$SPORT" || fail "secure file server started"
SF_ENV="{\"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI\": \"http://127.0.0.1:$SPORT/org/\", \"SYSTEM_TEAMPROJECTID\": \"proj-1\",
  \"SECUREFILE_TICKET_5e5e-f11e\": \"tkt-1\", \"SECUREFILE_NAME_5e5e-f11e\": \"cosign.key\",
  \"ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN\": \"job-token\"}"
task BosunShipV1 s2.json "{\"context\": \"clean\", \"tags\": \"$REG/app/secure:1\", \"db\": \"vuln.db\",
  \"signingKeySecureFile\": \"5e5e-f11e\", \"signingKeyPassword\": \"$KEYPW\", \"attest\": \"false\", \"reportDir\": \"rep-sf\"}" "$SF_ENV"
[ "$(res s2.json)" = SucceededWithIssues ] && [ "$(out s2.json signed)" = true ] && grep -q 'path=True query=True auth=True' securefiles.log \
    && ok "ship: signingKeySecureFile is downloaded with the ticket and the job token, and signs" || fail "ship: secure file" "$(jq_ s2.json 'd["message"]')" "$(cat securefiles.log)"
check "ship: the image signed with the secure-file key verifies" "$BOSUN" verify --key src/k.pub "$REG/app/secure:1"
[ -z "$(find agent/tmp -name cosign.key)" ] && ok "ship: the downloaded key is removed when the task ends" || fail "ship: key left behind" "$(find agent/tmp -name cosign.key)"
jq_ s2.json '[m for t, m in d["issues"] if t == "warning"]' | grep -q "the base image $REG/base/busybox:1 is [0-9]* days old (more than 30): rebuild on a current base" \
    && ok "ship: a base image older than baseMaxAge (default 30 days) is a warning: SucceededWithIssues" || fail "ship: stale base warning" "$(jq_ s2.json 'd["issues"]')"
grep -q 'job-token' <<<"$(jq_ s2.json 'd["stdout"]' | grep -v '^##vso\[task.debug\]')" && fail "ship: the job token is not logged" || ok "ship: the job token is not logged"

# ---- BosunShip: a vulnerable image
task BosunShipV1 s3.json "{\"context\": \"bad\", \"tags\": \"$REG/app/bad:1\", \"db\": \"vuln.db\", \"signingKey\": \"k.key\",
  \"signingKeyPassword\": \"$KEYPW\", \"reportDir\": \"rep-bad\"}"
[ "$(res s3.json)" = Failed ] && grep -q "bosun policy gate failed for $REG/app/bad:1: 1 finding at or above high; nothing pushed or signed" <<<"$(jq_ s3.json 'd["message"]')" \
    && ok "ship (vulnerable): Failed, the gate named" || fail "ship (vulnerable)" "$(jq_ s3.json 'd["message"]')"
[ "$(http_code app/bad 1)" = 404 ] && ok "ship (vulnerable): nothing pushed" || fail "ship (vulnerable): pushed" "$(http_code app/bad 1)"
jq_ s3.json '[m for t, m in d["issues"] if t == "error"]' | grep -q 'critical BOSUN-DEMO-2019-0001 in musl 1.1.22-r2, fixed in 1.1.22-r3: DEMO DATA' \
    && ok "ship (vulnerable): the finding is a pipeline error" || fail "ship: finding error" "$(jq_ s3.json 'd["issues"]')"
[ "$(out s3.json policyPassed)" = false ] && [ "$(out s3.json signed)" = false ] && [ "$(out s3.json findingsCritical)" = 1 ] \
    && jq_ s3.json '[c[0] for c in d["commands"]]' | grep -q "'results.publish'" \
    && ok "ship (vulnerable): outputs say so, and the JUnit is still published" || fail "ship (vulnerable): outputs" "$(jq_ s3.json 'd["outputs"]')"
task BosunShipV1 s4.json "{\"context\": \"bad\", \"tags\": \"$REG/app/bad:2\", \"db\": \"vuln.db\", \"failOn\": \"none\", \"reportDir\": \"rep-none\"}"
[ "$(res s4.json)" = SucceededWithIssues ] && jq_ s4.json '[m for t, m in d["issues"] if t == "warning"]' | grep -q '1 critical finding(s) under the gate (failOn: none)' \
    && ok "ship: failOn none passes with issues, warning about the critical finding" || fail "ship: failOn none" "$(jq_ s4.json 'd["message"]')"
task BosunShipV1 s5.json "{\"context\": \"clean\", \"tags\": \"$REG/app/never:1\", \"db\": \"nope.db\", \"reportDir\": \"rep-x\"}"
[ "$(res s5.json)" = Failed ] && grep -q 'bosun ship failed: exit 3 (bad input)' <<<"$(jq_ s5.json 'd["message"]')" && [ "$(http_code app/never 1)" = 404 ] \
    && ok "ship: a missing database fails with exit 3 (bad input), nothing pushed" || fail "ship: missing db" "$(jq_ s5.json 'd["message"]')"

# ---- a Docker registry service connection (basic auth registry)
OPEN_REG=$REG OPEN_REG_URL=$REG_URL
registry_start_basic svcuser 'svc;pw]1%'
AUTH_REG=$REG
REG=$OPEN_REG REG_URL=$OPEN_REG_URL
CONN_ENV="{\"ENDPOINT_URL_0f1e2d3c\": \"http://$AUTH_REG\", \"ENDPOINT_AUTH_SCHEME_0f1e2d3c\": \"UsernamePassword\",
  \"ENDPOINT_AUTH_PARAMETER_0F1E2D3C_USERNAME\": \"svcuser\", \"ENDPOINT_AUTH_PARAMETER_0F1E2D3C_PASSWORD\": \"svc;pw]1%\"}"
task BosunShipV1 c1.json "{\"context\": \"clean\", \"tags\": \"$AUTH_REG/team/app:1\", \"db\": \"vuln.db\", \"baseMaxAge\": \"100000\",
  \"dockerRegistryServiceConnection\": \"0f1e2d3c\", \"reportDir\": \"rep-conn\"}" "$CONN_ENV"
CD=$(out c1.json imageDigest)
[ "$(res c1.json)" = Succeeded ] && [ "$(skopeo inspect --tls-verify=false --creds 'svcuser:svc;pw]1%' --format '{{.Digest}}' "docker://$AUTH_REG/team/app:1" 2>&1)" = "$CD" ] \
    && ok "ship: pushes with the service connection's credentials (base from another registry)" || fail "ship: service connection" "$(jq_ c1.json 'd["message"]')"
grep -qF 'svc;pw]1%' <<<"$(jq_ c1.json 'd["stdout"]' | grep -v -e '^##vso\[task.setsecret\]' -e '^##vso\[task.debug\]')" \
    && fail "ship: the registry password appears only in setsecret" || ok "ship: the registry password appears only in setsecret"
[ -z "$(find agent/tmp -name config.json)" ] && ok "ship: the private docker config is removed when the task ends" || fail "ship: docker config left" "$(find agent/tmp -name config.json)"
task BosunShipV1 c2.json "{\"context\": \"clean\", \"tags\": \"$AUTH_REG/team/app:2\", \"db\": \"vuln.db\", \"reportDir\": \"rep-noconn\"}"
[ "$(res c2.json)" = Failed ] && grep -q 'bosun ship failed: exit [34]' <<<"$(jq_ c2.json 'd["message"]')" \
    && ok "ship: without the service connection the push is refused" || fail "ship: no connection" "$(jq_ c2.json 'd["message"]')"

# ---- BosunVerify: passes, then fails after a tamper
echo "# verify $REG/app/clean@$DIG"
task BosunVerifyV1 v1.json "{\"image\": \"$REG/app/clean@$DIG\", \"publicKeys\": \"k.pub\", \"attestations\": \"slsaprovenance,vuln\"}"
[ "$(res v1.json)" = Succeeded ] && [ "$(out v1.json verified)" = true ] && ok "verify: the shipped image verifies" || fail "verify" "$(jq_ v1.json 'd["message"]')" "$(jq_ v1.json 'd["stdout"][-1500:]')"
SIGTAG="sha256-${DIG#sha256:}.sig"
curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/app/clean/manifests/$SIGTAG" >sig.json
"$PYTHON" - sig.json <<'PY' >sig-tampered.json
import base64, json, sys
m = json.load(open(sys.argv[1]))
a = m["layers"][0]["annotations"]
s = bytearray(base64.b64decode(a["dev.cosignproject.cosign/signature"]))
s[-1] ^= 1
a["dev.cosignproject.cosign/signature"] = base64.b64encode(bytes(s)).decode()
print(json.dumps(m))
PY
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @sig-tampered.json \
    "$REG_URL/v2/app/clean/manifests/$SIGTAG" >/dev/null || fail "the tampered signature is put"
# ship also signed with a Sigstore bundle (an OCI 1.1 referrer, listed in the
# referrers tag schema index): the attacker empties that list too
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}' >refs-empty.json
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary @refs-empty.json \
    "$REG_URL/v2/app/clean/manifests/sha256-${DIG#sha256:}" >/dev/null || fail "the referrers index is emptied"
task BosunVerifyV1 v2.json "{\"image\": \"$REG/app/clean@$DIG\", \"publicKeys\": \"k.pub\"}"
[ "$(res v2.json)" = Failed ] && [ "$(out v2.json verified)" = false ] \
    && grep -q "$REG/app/clean@$DIG is not signed by the expected key: not deploying" <<<"$(jq_ v2.json 'd["message"]')" \
    && ok "verify: a tampered signature fails the gate" || fail "verify: tamper" "$(jq_ v2.json 'd["message"]')"
"$BOSUN" build -q -t "$REG/app/secure:1" --push src/bad >/dev/null 2>&1
task BosunVerifyV1 v3.json "{\"image\": \"$REG/app/secure:1\", \"publicKeys\": \"k.pub\"}"
[ "$(res v3.json)" = Failed ] && ok "verify: a tag moved to an unsigned image fails the gate" || fail "verify: moved tag" "$(jq_ v3.json 'd["message"]')"

# ---- BosunBaseWatch: the base moves, the image is stale
mkdir -p b2 && printf 'v2\n' >b2/v2 && printf 'FROM oci:%s/base:1\nCOPY v2 /v2\n' "$W" >b2/Dockerfile
"$BOSUN" build -q -t "$REG/base/busybox:1" --push b2 >/dev/null 2>&1 || fail "the base moves"
"$BOSUN" build -q -t "$REG/app/fresh:1" --push src/clean >/dev/null 2>&1 || fail "an image on the new base"
printf '{"images": [{"image": "%s/app/clean:latest", "pipeline": 42}, {"image": "%s/app/fresh:1", "pipeline": 43}]}\n' "$REG" "$REG" >src/fleet.json
task BosunBaseWatchV1 w1.json '{"images": "fleet.json", "reportDir": "rep-watch"}'
[ "$(res w1.json)" = SucceededWithIssues ] && ok "base watch: a stale image: SucceededWithIssues" || fail "base watch" "$(jq_ w1.json 'd["message"]')" "$(jq_ w1.json 'd["stdout"][-2000:]')"
[ "$(out w1.json baseImages)" = 2 ] && [ "$(out w1.json baseStaleCount)" = 1 ] && [ "$(out w1.json baseStaleImages)" = "$REG/app/clean:latest" ] \
    && [ "$(out w1.json baseStalePipelines)" = 42 ] && [ "$(out w1.json baseErrorCount)" = 0 ] \
    && ok "base watch: outputs for the rebuild stage (baseStaleImages, baseStalePipelines 42)" || fail "base watch: outputs" "$(jq_ w1.json 'd["outputs"]')"
NEWB=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/base/busybox:1")
jq_ w1.json '[m for t, m in d["issues"] if t == "warning"]' | grep -q "$REG/app/clean:latest: base $REG/base/busybox:1 is now $NEWB (rebuild pipeline 42)" \
    && ok "base watch: the stale image is a warning naming the new base digest" || fail "base watch: warning" "$(jq_ w1.json 'd["issues"]')"
jq_ w1.json '[c[0] for c in d["commands"]]' | grep -q "'results.publish', 'task.uploadsummary'" && ok "base watch: JUnit and summary published" || fail "base watch: publishing"
task BosunBaseWatchV1 w2.json '{"images": "fleet.json", "reportDir": "rep-watch2", "failIfStale": "true", "rescan": "true", "db": "vuln.db"}'
[ "$(res w2.json)" = Failed ] && [ "$(out w2.json baseNewFindings)" = 0 ] && grep -q "stale base images: $REG/app/clean:latest" <<<"$(jq_ w2.json 'd["message"]')" \
    && ok "base watch: failIfStale fails; rescan sets baseNewFindings" || fail "base watch: failIfStale" "$(jq_ w2.json 'd["message"]')" "$(jq_ w2.json 'd["outputs"]')"

printf '%s/app/fresh:1\n%s/app/nosuch:1\n' "$REG" "$REG" >src/fleet2.txt
task BosunBaseWatchV1 w3.json '{"images": "fleet2.txt", "reportDir": "rep-watch3"}'
[ "$(res w3.json)" = Failed ] && grep -Eq 'bosun base watch failed: exit [34] \((bad input|registry or network error)\); 2 images: 0 stale, 1 errors' <<<"$(jq_ w3.json 'd["message"]')" \
    && jq_ w3.json '[m for t, m in d["issues"] if t == "error"]' | grep -q "'$REG/app/nosuch:1: .*manifest unknown'" && [ "$(out w3.json baseErrorCount)" = 1 ] \
    && ok "base watch: an image that cannot be read fails the task, named, the others still checked" || fail "base watch: error image" "$(jq_ w3.json 'd["message"]')" "$(jq_ w3.json 'd["issues"]')"

# ---- BosunPatch on the debootstrap'd bookworm minbase (offline: no archive is reached)
if ! BASE_OCI=$(rootfs_bookworm_oci 2>patch-why); then
    skip "BosunPatch on the bookworm minbase" "no minbase: $(cat patch-why)"
else
    SRCDIG="sha256:$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$BASE_OCI/index.json")"
    DOWN=$(free_port)
    task BosunPatchV1 p1.json "{\"image\": \"oci:$BASE_OCI:12\", \"destinations\": \"$REG/minbase:unreachable\", \"mode\": \"only\", \"only\": \"zlib1g\",
      \"packageMirrors\": \"http://127.0.0.1:$DOWN/x\\nmain=http://127.0.0.1:$DOWN/y\"}"
    [ "$(res p1.json)" = Failed ] && grep -q "^bosun patch failed: exit 4 (registry or network error): .*apt-get update failed (a package archive could not be reached)" <<<"$(jq_ p1.json 'd["message"]')" \
        && ok "patch: unreachable archives fail the task with exit 4's meaning and bosun's reason" || fail "patch: unreachable archives" "$(jq_ p1.json 'd["message"]')" "$(jq_ p1.json 'd["stdout"][-2000:]')"
    grep -q -- "--only zlib1g --package-mirror http://127.0.0.1:$DOWN/x --package-mirror main=http://127.0.0.1:$DOWN/y -t $REG/minbase:unreachable oci:$BASE_OCI:12" <<<"$(jq_ p1.json 'd["stdout"]' | grep '^\[command\]')" \
        && ok "patch: the task ran bosun patch --only with both mirrors" || fail "patch: command line" "$(jq_ p1.json 'd["stdout"]' | grep '^\[command\]')"
    [ "$(http_code minbase unreachable)" = 404 ] && [ "$(jq_ p1.json 'd["outputs"]')" = "{}" ] \
        && ok "patch: unreachable archives: nothing pushed, no outputs" || fail "patch: unreachable: pushed or outputs" "$(http_code minbase unreachable) $(jq_ p1.json 'd["outputs"]')"

    mkdir -p osv-empty
    "$BOSUN" -q db build --osv osv-empty -o src/empty.db >/dev/null 2>&1 || fail "an empty database builds"
    task BosunPatchV1 p2.json "{\"image\": \"oci:$BASE_OCI:12\", \"destinations\": \"$REG/minbase:same\\noci:$W/patched-out:same\", \"mode\": \"db\",
      \"db\": \"empty.db\", \"dbMaxAge\": \"0\"}"
    [ "$(res p2.json)" = Succeeded ] && [ "$(out p2.json patched)" = false ] \
        && grep -q "^nothing to patch in oci:$BASE_OCI:12 (no installed package has a fix to take): " <<<"$(jq_ p2.json 'd["message"]')" \
        && ok "patch: an empty database: Succeeded, patched=false, nothing to patch" || fail "patch: nothing to patch" "$(jq_ p2.json 'd["message"]')" "$(jq_ p2.json 'd["outputs"]')" "$(jq_ p2.json 'd["stdout"][-2000:]')"
    PD=$(out p2.json patchedDigest)
    RD="sha256:$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/minbase/manifests/same" | sha256sum | cut -d' ' -f1)"
    LD=$(skopeo inspect --format '{{.Digest}}' "oci:$W/patched-out:same" 2>&1)
    [ "$PD" = "$SRCDIG" ] && [ "$RD" = "$SRCDIG" ] && [ "$LD" = "$SRCDIG" ] \
        && ok "patch: nothing to patch: patchedDigest, the registry copy and the oci copy are the source's digest" || fail "patch: unchanged digests" "out $PD reg $RD oci $LD src $SRCDIG"
    [ "$(grep -c 'variable=patched;' <<<"$(jq_ p2.json 'd["stdout"]')")" = 1 ] && ok "patch: each output set once" || fail "patch: outputs set once"
fi

# ---- MockTestRunner: the input-mapping branches (no bosun, no network, no Node download)
mkdir -p mock home
HOME="$W/home" TASK_NODE_URL=http://127.0.0.1:9 timeout 120 node "$EXT/tests/mock.js" "$W/ext" "$W/mock" "$W/src/rep-bad" >mock.out 2>&1
cat mock.out
[ -n "$(grep '^ok - mock:' mock.out)" ] || fail "the mock tests ran" "$(tail -5 mock.out)"
[ ! -e home/azure-pipelines-task-lib ] && ok "MockTestRunner used the local node (downloaded none)" || fail "MockTestRunner downloaded node" "$(ls -R home | head)"
diag "$(($(date +%s) - START)) s from make vsix to the end"
finish
