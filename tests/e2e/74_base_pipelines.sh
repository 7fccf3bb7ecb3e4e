#!/usr/bin/env bash
# The base-watch pipelines: azure-pipelines/base-image-watch.yml against the
# Azure Pipelines service schema (python3-jsonschema, every YAML scalar a
# string), its rebuild-queue script run on real watch.json files; the Jenkins
# var and example compiled by Debian's groovy, and the var run with mocked
# Jenkins steps against the real bosun (stale image -> build job:).
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$(dirname "$0")/../lib/images.sh"

T=$(tmpdir_new pipes)
YML="$REPO/azure-pipelines/base-image-watch.yml"
SCHEMA="$SHARED/data/schemas/azure-pipelines-service-schema.json"

cat >"$T/azv.py" <<'PY'
import json, sys, yaml, jsonschema
class StrLoader(yaml.SafeLoader):
    pass
def as_str(loader, node):
    return loader.construct_scalar(node)
for t in ("bool", "int", "float", "null", "timestamp"):
    StrLoader.add_constructor("tag:yaml.org,2002:" + t, as_str)
doc = yaml.load(open(sys.argv[2]), Loader=StrLoader)
if sys.argv[1] == "dump":
    print(json.dumps(doc)); sys.exit(0)
schema = json.load(open(sys.argv[1]))
# Azure reads every scalar as a string; inputs typed boolean/number accept
# the strings Azure converts.
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
check "base-image-watch.yml is valid under the service schema" "$PYTHON" "$T/azv.py" "$SCHEMA" "$YML"
sed 's/^schedules:/schedule:/' "$YML" >"$T/neg1.yml"
expect_exit 1 "the validator rejects a misspelt key" "$PYTHON" "$T/azv.py" "$SCHEMA" "$T/neg1.yml"
sed 's/testResultsFormat: JUnit/testResultsFormat: JUnitX/' "$YML" >"$T/neg2.yml"
expect_exit 1 "the validator rejects a bad task input" "$PYTHON" "$T/azv.py" "$SCHEMA" "$T/neg2.yml"
"$PYTHON" "$T/azv.py" dump "$YML" >"$T/yml.json"
check "scheduled daily, container triggers, shards match shardCount, runs bosun base watch" "$PYTHON" - "$T/yml.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schedules"][0]["cron"].split()[2:] == ["*", "*", "*"], d["schedules"]
assert all(c["type"] == "ACR" and c["trigger"]["tags"]["include"] for c in d["resources"]["containers"])
n = [v["value"] for v in d["variables"] if v["name"] == "shardCount"][0]
job = d["stages"][0]["jobs"][0]
shards = sorted(m["shard"] for m in job["strategy"]["matrix"].values())
assert shards == [str(i) for i in range(1, int(n) + 1)], shards
s = [x["script"] for x in job["steps"] if "script" in x][0]
assert "bosun base watch" in s and '--shard "$(shard)/$(shardCount)"' in s and "--rescan" in s
assert d["stages"][1]["dependsOn"] == "Watch"
PY

# The Rebuild stage's queue script on watch.json files that bosun wrote.
registry_start_open
make_busybox_oci "$T/bb" 1
check "push base:1" "$BOSUN" copy "oci:$T/bb:1" "$REG/base:1"
mkdir -p "$T/app" "$T/b2" && printf 'x\n' >"$T/app/x" && printf 'v2\n' >"$T/b2/v2"
printf 'FROM %s/base:1\nCOPY x /x\n' "$REG" >"$T/app/Dockerfile"
printf 'FROM oci:%s/bb:1\nCOPY v2 /v2\n' "$T" >"$T/b2/Dockerfile"
check "build app-a" "$BOSUN" build -t "$REG/app-a:1" --push "$T/app"
check "build app-c" "$BOSUN" build -t "$REG/app-c:1" --push "$T/app"
check "move base:1" "$BOSUN" build -t "$REG/base:1" --push "$T/b2"
check "build app-b on the new base" "$BOSUN" build -t "$REG/app-b:1" --push "$T/app"
printf '{"images": [{"image": "%s/app-a:1", "pipeline": 41}, {"image": "%s/app-b:1", "pipeline": 42}, {"image": "%s/app-c:1"}]}\n' \
    "$REG" "$REG" "$REG" >"$T/base-images.json"
for s in 1 2; do
    mkdir -p "$T/artifacts/base-watch-$s"
    "$BOSUN" base watch --images "$T/base-images.json" --shard "$s/2" --report-dir "$T/artifacts/base-watch-$s" >/dev/null 2>&1
done
"$PYTHON" - "$T/yml.json" >"$T/queue.py" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
s = d["stages"][1]["jobs"][0]["steps"][2]["script"]
m = re.search(r"<<'PY'\n(.*?)\nPY\n", s, re.S)
print("\n".join(l[0:] for l in m.group(1).splitlines()))
PY
"$PYTHON" "$T/queue.py" "$T/artifacts" >"$T/queue.txt" 2>"$T/queue.err"
[ "$(cat "$T/queue.txt")" = 41 ] && ok "the queue script queues the stale image's pipeline only" || fail "queue" "$(cat "$T/queue.txt" "$T/queue.err")"
grep -q "app-c:1 is stale but lists no pipeline" "$T/queue.err" && ok "a stale image without pipeline is a warning" || fail "warning" "$(cat "$T/queue.err")"

# ---- Jenkins
if ! command -v groovy >/dev/null; then
    fail "groovy installed (apt-get install groovy)"
    finish
fi
cat >"$T/gcheck.groovy" <<'GR'
import org.codehaus.groovy.control.*
int bad = 0
args.each { f ->
    def cu = new CompilationUnit()
    cu.addSource(new File(f))
    try {
        // A Jenkinsfile names classes only Jenkins has (@Library): syntax only.
        cu.compile(f.endsWith('Jenkinsfile') ? Phases.CONVERSION : Phases.SEMANTIC_ANALYSIS)
        println "ok ${f}"
    } catch (CompilationFailedException ex) {
        bad++
        println "bad ${f}: ${ex.message.readLines().take(3).join(' | ')}"
    }
}
System.exit(bad ? 1 : 0)
GR
printf 'def call(Map a = [:]) {\n  sh(script: "x"\n}\n' >"$T/broken.groovy"
(cd "$REPO" && groovy "$T/gcheck.groovy" jenkins/vars/bosunBaseWatch.groovy jenkins/examples/base-watch.Jenkinsfile "$T/broken.groovy") >"$T/g.out" 2>&1
grep -qx "ok jenkins/vars/bosunBaseWatch.groovy" "$T/g.out" && ok "groovy compiles bosunBaseWatch.groovy" || fail "groovy var" "$(cat "$T/g.out")"
grep -qx "ok jenkins/examples/base-watch.Jenkinsfile" "$T/g.out" && ok "groovy parses base-watch.Jenkinsfile" || fail "groovy Jenkinsfile" "$(cat "$T/g.out")"
grep -q "^bad .*broken.groovy" "$T/g.out" && ok "the groovy check rejects a syntax error" || fail "broken accepted"

# Run the var with the Jenkins steps mocked and the real bosun behind sh.
cat >"$T/jrun.groovy" <<'GR'
def calls = []
def envs = [:]
def b = new Binding()
b.setVariable('env', [BOSUN_BIN: System.getenv('BOSUN'), JENKINS_URL: 'http://jenkins'])
b.setVariable('withEnv', { List l, Closure c -> l.each { String kv -> int i = kv.indexOf('='); envs[kv.substring(0, i)] = kv.substring(i + 1) }; c() })
b.setVariable('withCredentials', { List l, Closure c -> c() })
b.setVariable('usernamePassword', { Map m -> m })
b.setVariable('sh', { Map m ->
    def pb = new ProcessBuilder('bash', '-c', m.script)
    pb.environment().putAll(envs + [JENKINS_URL: 'http://jenkins'])
    pb.redirectErrorStream(true)
    def p = pb.start(); print p.inputStream.text; p.waitFor()
    calls << "sh ${m.label}"
    return p.exitValue()
})
b.setVariable('junit', { Map m -> calls << "junit ${m.testResults}" })
b.setVariable('archiveArtifacts', { Map m -> calls << "archive ${m.artifacts}" })
b.setVariable('fileExists', { String f -> new File(f).exists() })
b.setVariable('readFile', { String f -> new File(f).text })
b.setVariable('build', { Map m -> calls << "build ${m.job}" })
b.setVariable('echo', { String s -> println s })
b.setVariable('unstable', { String s -> calls << "unstable" })
b.setVariable('error', { String s -> throw new RuntimeException(s) })
def step = new GroovyShell(b).parse(new File(args[0]))
def r = step.call(images: args[1], reportDir: args[2])
calls.each { println "CALL ${it}" }
println "RESULT ${r.exitCode} ${r.stalePipelines}"
GR
(cd "$T" && BOSUN="$BOSUN" groovy "$T/jrun.groovy" "$REPO/jenkins/vars/bosunBaseWatch.groovy" "$T/base-images.json" "$T/jw") >"$T/j.out" 2>&1
grep -qx "CALL build 41" "$T/j.out" && ! grep -q "CALL build 42" "$T/j.out" && ok "the Jenkins var triggers build job: for the stale image only" || fail "jenkins build" "$(cat "$T/j.out")"
grep -qx "CALL junit $T/jw/junit.xml" "$T/j.out" && grep -qx "RESULT 0 \[41\]" "$T/j.out" && ok "JUnit published, outputs read from bosun-base.properties" || fail "jenkins outputs" "$(cat "$T/j.out")"
finish
