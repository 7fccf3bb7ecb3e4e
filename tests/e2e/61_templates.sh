#!/usr/bin/env bash
# Azure Pipelines templates and the Jenkins shared library.
#  - every YAML under pipeline-templates/ and azure-pipelines/ validates
#    against the Azure Pipelines service schema (python3-jsonschema; YAML
#    loaded with every scalar a string, template expressions expanded with
#    the parameters' defaults, every conditional branch kept);
#  - the step templates are expanded with parameters (a small expander of
#    the template language written here) and their bash steps run with
#    Azure's predefined variables, against a local registry;
#  - every groovy file and the Jenkinsfile compile with Debian's groovy,
#    and the shared-library steps run with Jenkins' steps stubbed and sh
#    running bash for real.
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"

W=$(tmpdir_new templates)
cd "$W" || exit 1
unset TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY
SCHEMA="$SHARED/data/schemas/azure-pipelines-service-schema.json"

cat >azp.py <<'PY'
"""Azure Pipelines YAML for tests: load with every scalar a string, strip
template expressions for schema validation, or expand templates with
parameters and run their steps in bash the way an agent would."""
import json, os, re, subprocess, sys
import yaml

class StrLoader(yaml.SafeLoader):
    pass
def _str(loader, node):
    return loader.construct_scalar(node)
for tag in ("bool", "int", "float", "null", "timestamp"):
    StrLoader.add_constructor("tag:yaml.org,2002:" + tag, _str)

def load(path):
    with open(path) as f:
        return yaml.load(f, Loader=StrLoader)

EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
DIRECTIVE = re.compile(r"^\s*\$\{\{\s*(if|elseif|else|each|insert)\b(.*)\}\}\s*$", re.S)

# ------------------------------------------------------------ strip mode
def strip_value(s, ctx):
    """A value: expressions are evaluated with the parameters' defaults where
    that works (a whole-value expression keeps its type: numbers, objects);
    otherwise (loop variables, required parameters) they become "x"."""
    def one(expr):
        try:
            v = evaluate(expr, ctx)
        except Exception:
            return "x"
        return "x" if v is None else v
    m = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", s, re.S)
    if m:
        v = one(m.group(1))
        if isinstance(v, bool):
            return "true" if v else "false"
        return v if isinstance(v, (dict, list)) else str(v)
    return EXPR.sub(lambda m: str(one(m.group(1))) if not isinstance(one(m.group(1)), (dict, list)) else "x", s)

def strip(node, ctx=None):
    """Keep every branch of every conditional, loop bodies once."""
    if ctx is None:
        ctx = {"parameters": {}}
        if isinstance(node, dict) and isinstance(node.get("parameters"), list):
            for d in node["parameters"]:
                if isinstance(d, dict) and "default" in d:
                    ctx["parameters"][d["name"]] = d["default"]
            return {k: (v if k == "parameters" else strip(v, ctx)) for k, v in node.items()}
    if isinstance(node, str):
        return strip_value(node, ctx)
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if DIRECTIVE.match(k):
                sv = strip(v, ctx)
                if isinstance(sv, dict):
                    out.update(sv)
                elif sv is not None:
                    raise ValueError("directive %r holds a %s inside a mapping" % (k, type(sv).__name__))
            else:
                out[EXPR.sub("x", k)] = strip(v, ctx)
        return out
    if isinstance(node, list):
        out = []
        for it in node:
            if isinstance(it, dict) and len(it) == 1 and DIRECTIVE.match(next(iter(it))):
                sv = strip(next(iter(it.values())), ctx)
                out.extend(sv if isinstance(sv, list) else [sv])
            else:
                out.append(strip(it, ctx))
        return out
    return node

# ----------------------------------------------------------- expressions
TOK = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_.\-]*)|(?P<p>[(),\[\]]))")

def tokenize(s):
    pos, out = 0, []
    s = s.strip()
    while pos < len(s):
        m = TOK.match(s, pos)
        if not m or m.end() == pos:
            raise ValueError("cannot parse expression %r at %d" % (s, pos))
        pos = m.end()
        for k in ("str", "num", "id", "p"):
            if m.group(k) is not None:
                out.append((k, m.group(k)))
    return out

def truthy(v):
    if isinstance(v, str):
        return v != "" and v.lower() != "false"
    return bool(v)

def aeq(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return truthy(a) == truthy(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return str(a) == str(b)

def tostr(v):
    if isinstance(v, bool):
        return "True" if v else "False"
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        raise ValueError("an object cannot be used as a string: %r" % (v,))
    return str(v)

FUNCS = {
    "eq": lambda a, b: aeq(a, b),
    "ne": lambda a, b: not aeq(a, b),
    "and": lambda *a: all(truthy(x) for x in a),
    "or": lambda *a: any(truthy(x) for x in a),
    "not": lambda a: not truthy(a),
    "join": lambda sep, l: sep.join(tostr(x) for x in (l or [])),
    "coalesce": lambda *a: next((x for x in a if x not in (None, "")), ""),
    "startsWith": lambda a, b: tostr(a).lower().startswith(tostr(b).lower()),
}

def evaluate(expr, ctx):
    toks = tokenize(expr)
    pos = [0]
    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else (None, None)
    def take():
        t = peek(); pos[0] += 1; return t
    def primary():
        k, v = take()
        if k == "str":
            return v[1:-1].replace("''", "'")
        if k == "num":
            return float(v) if "." in v else int(v)
        if k == "id":
            if peek() == ("p", "("):
                take(); args = []
                if peek() != ("p", ")"):
                    while True:
                        args.append(primary())
                        if peek() == ("p", ","):
                            take(); continue
                        break
                if take() != ("p", ")"):
                    raise ValueError("missing ) in %r" % expr)
                if v not in FUNCS:
                    raise ValueError("function %s not supported" % v)
                return FUNCS[v](*args)
            if v in ("true", "True"):
                return True
            if v in ("false", "False"):
                return False
            parts = v.split(".")
            if parts[0] not in ctx:
                raise ValueError("unknown name %s in %r" % (parts[0], expr))
            cur = ctx[parts[0]]
            for p in parts[1:]:
                if isinstance(cur, dict):
                    cur = cur.get(p)
                else:
                    cur = None
            return cur
        raise ValueError("unexpected %r in %r" % (v, expr))
    val = primary()
    if pos[0] != len(toks):
        raise ValueError("trailing tokens in %r" % expr)
    return val

def subst(s, ctx):
    m = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", s, re.S)
    if m:                      # a whole-value expression keeps its type
        return evaluate(m.group(1), ctx)
    return EXPR.sub(lambda m: tostr(evaluate(m.group(1), ctx)), s)

# ------------------------------------------------------------ expand mode
def expand(node, ctx, base):
    if isinstance(node, str):
        return subst(node, ctx)
    if isinstance(node, dict):
        out, last_if = {}, None
        for k, v in node.items():
            d = DIRECTIVE.match(k)
            if d:
                kind, rest = d.group(1), d.group(2)
                if kind == "each":
                    var, coll = re.match(r"\s*(\w+)\s+in\s+(.*)", rest, re.S).groups()
                    items = evaluate(coll, ctx) or {}
                    seq = [{"key": a, "value": b} for a, b in items.items()] if isinstance(items, dict) else items
                    for it in seq:
                        out.update(expand(v, dict(ctx, **{var: it}), base))
                    continue
                taken = branch(kind, rest, ctx, last_if)
                last_if = None if kind == "else" else taken
                if taken == "yes":
                    out.update(expand(v, ctx, base))
                continue
            out[tostr(subst(k, ctx))] = expand(v, ctx, base)
        return out
    if isinstance(node, list):
        out, last_if = [], None
        for it in node:
            if isinstance(it, dict) and len(it) == 1 and DIRECTIVE.match(next(iter(it))):
                k, v = next(iter(it.items()))
                kind, rest = DIRECTIVE.match(k).groups()
                if kind == "each":
                    var, coll = re.match(r"\s*(\w+)\s+in\s+(.*)", rest, re.S).groups()
                    items = evaluate(coll, ctx) or []
                    for x in items:
                        out.extend(expand(v, dict(ctx, **{var: x}), base))
                    continue
                taken = branch(kind, rest, ctx, last_if)
                last_if = None if kind == "else" else taken
                if taken == "yes":
                    out.extend(expand(v, ctx, base))
                continue
            last_if = None
            if isinstance(it, dict) and "template" in it:
                out.extend(expand_template(os.path.join(base, it["template"]),
                                           expand(it.get("parameters") or {}, ctx, base)))
                continue
            out.append(expand(it, ctx, base))
        return out
    return node

def branch(kind, rest, ctx, last_if):
    if kind == "if":
        return "yes" if truthy(evaluate(rest, ctx)) else "no"
    if kind == "elseif":
        if last_if == "no":
            return "yes" if truthy(evaluate(rest, ctx)) else "no"
        return "done"
    if kind == "else":
        return "yes" if last_if == "no" else "done"
    raise ValueError("directive %s not supported" % kind)

def typed(decl, value):
    t = decl.get("type", "string")
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError("parameter %s: %r is not a boolean" % (decl["name"], value))
    if t == "number":
        return int(value) if str(value).lstrip("-").isdigit() else float(value)
    if t == "object":
        return value
    if isinstance(value, (dict, list)):
        raise ValueError("parameter %s must be a %s" % (decl["name"], t))
    return tostr(value)

def expand_template(path, params):
    doc = load(path)
    decls = doc.get("parameters") or []
    known = {d["name"] for d in decls}
    for p in params:
        if p not in known:
            raise ValueError("%s: unexpected parameter %s" % (path, p))
    vals = {}
    for d in decls:
        if d["name"] in params:
            v = typed(d, params[d["name"]])
        elif "default" in d:
            v = typed(d, d["default"])
        else:
            raise ValueError("%s: parameter %s is required" % (path, d["name"]))
        if "values" in d and tostr(v) not in d["values"]:
            raise ValueError("%s: parameter %s=%r not in %s" % (path, d["name"], v, d["values"]))
        vals[d["name"]] = v
    body = {k: v for k, v in doc.items() if k != "parameters"}
    ctx = {"parameters": vals}
    out = expand(body, ctx, os.path.dirname(path))
    return out.get("steps") or out.get("jobs") or out.get("stages") or []

# ---------------------------------------------------------------- running
MACRO = re.compile(r"\$\(([A-Za-z0-9_.\-]+)\)")

def macro(s, variables):
    return MACRO.sub(lambda m: variables.get(m.group(1).lower(), m.group(0)), s)

def vso_unescape(s):
    for tok, rep in ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D")):
        s = s.replace(rep, tok)
    return s.replace("%AZP25", "%")

def run_steps(steps, variables, secure_files, log, secret_vars=()):
    """variables: lower-cased name -> value (predefined + pipeline). Returns
    (exit code of the first failing step or 0, outputs {step.var: value},
    task records)."""
    outputs, tasks, rc_all, path_add = {}, [], 0, []
    for st in steps:
        cond = st.get("condition", "succeeded()")
        if rc_all and cond.replace(" ", "") != "always()":
            continue
        if "task" in st:
            inputs = {k: macro(tostr(v), variables) for k, v in (st.get("inputs") or {}).items()}
            tasks.append((st["task"], inputs))
            if st["task"].startswith("DownloadSecureFile@"):
                variables[(st["name"] + ".secureFilePath").lower()] = secure_files[inputs["secureFile"]]
            continue
        if "bash" not in st:
            raise ValueError("step kind not supported: %r" % sorted(st))
        env = dict(os.environ)
        env["PATH"] = ":".join(path_add + [env["PATH"]])
        # the agent exposes every (non-secret) variable to scripts, upper
        # case with '.' as '_': Agent.TempDirectory -> AGENT_TEMPDIRECTORY
        for k, v in variables.items():
            if k not in secret_vars:
                env[k.upper().replace(".", "_")] = v
        for k, v in (st.get("env") or {}).items():
            env[k] = macro(tostr(v), variables)
        script = macro(st["bash"], variables)
        p = subprocess.run(["bash", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.decode(errors="replace")
        log.write("### step %s rc=%d\n%s\n" % (st.get("displayName", st.get("name", "bash")), p.returncode, out))
        for line in out.split("\n"):
            if "##vso[" not in line:
                continue
            i = line.index("##vso["); rb = line.index("]", i)
            name, _, props = line[i + 6:rb].partition(" ")
            pr = {}
            for kv in filter(None, props.split(";")):
                k, _, v = kv.partition("=")
                pr[k] = vso_unescape(v)
            data = vso_unescape(line[rb + 1:])
            if name == "task.setvariable":
                key = pr["variable"]
                if pr.get("isOutput") == "true" and st.get("name"):
                    outputs[st["name"] + "." + key] = data
                variables[key.lower()] = data
            elif name == "task.prependpath":
                path_add.insert(0, data)
        if p.returncode and not rc_all:
            rc_all = p.returncode
    return rc_all, outputs, tasks

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "validate":                  # validate SCHEMA FILE...
        import jsonschema
        schema = json.load(open(sys.argv[2]))
        # Every YAML scalar is a string to Azure; the task input definitions
        # still say "boolean" / "number", which Azure reads from strings.
        tc = jsonschema.Draft7Validator.TYPE_CHECKER.redefine_many({
            "boolean": lambda c, x: isinstance(x, bool) or (isinstance(x, str) and x.lower() in ("true", "false")),
            "number": lambda c, x: (isinstance(x, (int, float)) and not isinstance(x, bool)) or
                                   (isinstance(x, str) and re.fullmatch(r"-?\d+(\.\d+)?", x) is not None),
            "integer": lambda c, x: (isinstance(x, int) and not isinstance(x, bool)) or
                                    (isinstance(x, str) and re.fullmatch(r"-?\d+", x) is not None)})
        V = jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=tc)
        v = V(schema)
        bad = 0
        for f in sys.argv[3:]:
            doc = strip(load(f))
            errs = list(v.iter_errors(doc))
            if errs:
                bad += 1
                def leaves(e):
                    if e.context:
                        for c in e.context:
                            yield from leaves(c)
                    else:
                        yield e
                deep = sorted((l for e in errs for l in leaves(e)), key=lambda x: -len(list(x.absolute_path)))
                for l in deep[:3]:
                    print("%s: %s: %s" % (f, "/".join(map(str, l.absolute_path)), l.message[:200]))
            else:
                print("%s: valid" % f)
        sys.exit(1 if bad else 0)
    if cmd == "run":                       # run TEMPLATE PARAMS.json VARS.json SECUREFILES.json RESULT.json LOG
        params = json.load(open(sys.argv[3]))
        raw = json.load(open(sys.argv[4]))
        # "_secrets": names of secret variables, which the agent does not
        # put into the environment (only an explicit env: mapping does)
        secrets = [x.lower() for x in raw.pop("_secrets", [])]
        variables = {k.lower(): v for k, v in raw.items()}
        steps = expand_template(sys.argv[2], params)
        with open(sys.argv[7], "w") as log:
            rc, outputs, tasks = run_steps(steps, variables, json.load(open(sys.argv[5])), log, secrets)
        json.dump({"rc": rc, "outputs": outputs, "tasks": tasks, "steps": steps}, open(sys.argv[6], "w"), indent=1)
        sys.exit(0)
    if cmd == "expand":                    # expand TEMPLATE PARAMS.json
        print(json.dumps(expand_template(sys.argv[2], json.load(open(sys.argv[3]))), indent=1))
PY
cat >gcheck.groovy <<'GR'
import org.codehaus.groovy.control.*
int bad = 0
args.each { f ->
    def cu = new CompilationUnit()
    cu.addSource(new File(f))
    try {
        // Jenkinsfiles name classes (@Library) that only Jenkins has: syntax only.
        cu.compile(f.endsWith('Jenkinsfile') ? Phases.CONVERSION : Phases.SEMANTIC_ANALYSIS)
        println "${f}: ok"
    } catch (CompilationFailedException ex) {
        bad++
        println "${f}: ${ex.message.readLines().take(4).join(' | ')}"
    }
}
System.exit(bad ? 1 : 0)
GR
cat >jrun.groovy <<'GR'
// jrun.groovy VARS_DIR SCENARIO.json: call one shared-library step the way
// Jenkins would, with the pipeline steps it uses stubbed: sh runs bash for
// real (with the withEnv/withCredentials environment), credentials come
// from the scenario, and every junit/archiveArtifacts/unstable/error call
// is recorded. Prints one JSON line with the result.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper

def sc = new JsonSlurper().parse(new File(args[1]))
def rec = [calls: [], env: [:], result: null, error: null, unstable: null, sh: []]
def envMap = new LinkedHashMap(sc.env ?: [:])
def stack = []
def b = new Binding()
b.setVariable('env', envMap)
b.setVariable('echo', { String m -> System.err.println(m) })
b.setVariable('error', { String m -> rec.error = m; throw new RuntimeException('error(): ' + m) })
b.setVariable('unstable', { String m -> rec.unstable = m })
b.setVariable('withEnv', { List l, Closure c ->
    stack << l.collectEntries { String kv -> def i = kv.indexOf('='); [(kv.substring(0, i)): kv.substring(i + 1)] }
    try { c.call() } finally { stack.remove(stack.size() - 1) }
})
b.setVariable('file', { Map m -> [kind: 'file'] + m })
b.setVariable('string', { Map m -> [kind: 'string'] + m })
b.setVariable('usernamePassword', { Map m -> [kind: 'userpass'] + m })
b.setVariable('withCredentials', { List l, Closure c ->
    Map e = [:]
    l.each { cr ->
        def v = sc.credentials[cr.credentialsId]
        if (v == null) throw new RuntimeException("no credential ${cr.credentialsId}")
        if (cr.kind == 'userpass') { e[cr.usernameVariable] = v[0]; e[cr.passwordVariable] = v[1] }
        else e[cr.variable] = v
    }
    rec.calls << [step: 'withCredentials', ids: l.collect { it.credentialsId }]
    stack << e
    try { c.call() } finally { stack.remove(stack.size() - 1) }
})
b.setVariable('sh', { Map m ->
    Map e = new HashMap(System.getenv())
    e.putAll(envMap.collectEntries { k, v -> [(k): v == null ? '' : v.toString()] })
    stack.each { e.putAll(it) }
    def pb = new ProcessBuilder('bash', '-c', m.script)
    pb.environment().clear(); pb.environment().putAll(e)
    pb.redirectErrorStream(true)
    def p = pb.start()
    def out = p.inputStream.text
    int rc = p.waitFor()
    System.err.print(out)
    rec.sh << [label: m.label, rc: rc, script: m.script]
    if (m.returnStatus) return rc
    if (rc != 0) throw new RuntimeException("script returned exit code ${rc}")
    return null
})
b.setVariable('junit', { Map m -> rec.calls << [step: 'junit'] + m })
b.setVariable('archiveArtifacts', { Map m -> rec.calls << [step: 'archiveArtifacts'] + m })
b.setVariable('fileExists', { String f -> new File(f).exists() })
b.setVariable('readFile', { String f -> new File(f).text })
def shell = new GroovyShell(b)
def script = shell.parse(new File(args[0], "${sc.step}.groovy"))
try {
    rec.result = script.call(sc.args ?: [:])
} catch (RuntimeException ex) {
    if (rec.error == null) rec.error = 'exception: ' + ex.message
}
rec.env = envMap
println JsonOutput.toJson(rec)
GR

# ---- schema validation
mapfile -t YAMLS < <(cd "$REPO" && find pipeline-templates azure-pipelines -name '*.yml' -o -name '*.yaml' | sort)
[ "${#YAMLS[@]}" -ge 7 ] && ok "found ${#YAMLS[@]} pipeline YAML files" || fail "found the pipeline YAML files" "${YAMLS[*]}"
for y in "${YAMLS[@]}"; do
    check "schema: $y" "$PYTHON" azp.py validate "$SCHEMA" "$REPO/$y"
done
# the validator can fail: an unknown task input, an unknown step key, a bad boolean
mkdir -p neg
sed 's/testRunTitle:/testRunTitel:/' "$REPO/pipeline-templates/steps/bosun-ship.yml" >neg/a.yml
sed 's/^  displayName: bosun ship/  displayNam: bosun ship/' "$REPO/pipeline-templates/steps/bosun-ship.yml" >neg/b.yml
sed 's/mergeTestResults: true/mergeTestResults: maybe/' "$REPO/pipeline-templates/steps/bosun-ship.yml" >neg/c.yml
for n in a b c; do
    if cmp -s neg/$n.yml "$REPO/pipeline-templates/steps/bosun-ship.yml"; then
        fail "negative copy $n differs from the template"
    else
        expect_exit 1 "schema rejects a broken template ($n)" "$PYTHON" azp.py validate "$SCHEMA" neg/$n.yml
    fi
done

# ---- expansion of bosun-ship.yml
cat >ship_params.json <<'JS'
{"repository": "reg.example/team/app", "tags": ["1.0", "latest"], "buildArgs": {"APP_VERSION": "1.0", "GOFLAGS": "-mod=vendor"},
 "signingKeySecureFile": "cosign.key", "signingKeyPasswordVariable": "cosignPassword",
 "registryUsernameVariable": "regUser", "registryPasswordVariable": "regPass", "failOn": "critical"}
JS
"$PYTHON" azp.py expand "$REPO/pipeline-templates/steps/bosun-ship.yml" ship_params.json >ship_expanded.json 2>expand.err
cat >expand_check.py <<'PY'
import json, sys
steps = json.load(open(sys.argv[1]))
txt = json.dumps(steps)
assert "${{" not in txt, "unexpanded expression"
tasks = [s.get("task") for s in steps]
assert tasks[0] == "DownloadSecureFile@1" and steps[0]["inputs"]["secureFile"] == "cosign.key", tasks
assert "Docker@2" not in tasks
ship = [s for s in steps if s.get("name") == "bosun"][0]
env = ship["env"]
assert env["BOSUN_TAGS"] == "1.0 latest" and env["BOSUN_FAIL_ON"] == "critical"
assert env["BOSUN_BUILD_ARG_APP_VERSION"] == "1.0" and env["BOSUN_BUILD_ARG_GOFLAGS"] == "-mod=vendor"
assert env["BOSUN_KEY_FILE"] == "$(bosunSigningKey.secureFilePath)"
assert env["BOSUN_KEY_PASSWORD"] == "$(cosignPassword)" and env["BOSUN_PASSWORD"] == "$(regPass)"
pub = [s for s in steps if s.get("task") == "PublishTestResults@2"][0]
assert pub["condition"] == "always()" and pub["inputs"]["testRunTitle"] == "bosun reg.example/team/app"
assert pub["inputs"]["testResultsFormat"] == "JUnit"
art = [s for s in steps if s.get("task") == "PublishPipelineArtifact@1"][0]
assert art["condition"] == "always()"
print("ok")
PY
check "bosun-ship.yml expands with typed parameters" "$PYTHON" expand_check.py ship_expanded.json
echo '{"repository": "r/a", "failOn": "severe"}' >bad_params.json
expect_exit 1 "bosun-ship.yml refuses a failOn outside its values" "$PYTHON" azp.py expand "$REPO/pipeline-templates/steps/bosun-ship.yml" bad_params.json
expect_out "the bad parameter is named" "failOn"
echo '{"repository": "r/a", "ignoreUnfixed": "perhaps"}' >bad_params2.json
expect_exit 1 "bosun-ship.yml refuses a non-boolean ignoreUnfixed" "$PYTHON" azp.py expand "$REPO/pipeline-templates/steps/bosun-ship.yml" bad_params2.json

# Azure's predefined variables for the runs below
mkdir -p agent/tmp agent/tools agent/staging src
cat >vars.json <<JS
{"Agent.TempDirectory": "$W/agent/tmp", "Agent.ToolsDirectory": "$W/agent/tools",
 "Build.ArtifactStagingDirectory": "$W/agent/staging", "Build.SourcesDirectory": "$W/src",
 "Build.BuildId": "4242", "Build.BuildNumber": "20261128.1", "System.JobAttempt": "1",
 "TF_BUILD": "True", "Agent.OS": "Linux"}
JS
echo '{}' >nosecure.json

# ---- bosun-install.yml: a file:// URL stands for the release download
SHA=$(sha256sum "$BOSUN" | cut -d' ' -f1)
printf '{"version": "9.9.9", "url": "file://%s", "sha256": "%s"}\n' "$BOSUN" "$SHA" >inst.json
check "bosun-install.yml runs" "$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-install.yml" inst.json vars.json nosecure.json inst_res.json inst.log
"$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["rc"])' inst_res.json \
    && ok "bosun-install.yml: steps succeed" || fail "bosun-install.yml: steps succeed" "$(cat inst.log)"
[ -x agent/tools/bosun/9.9.9/bosun ] && cmp -s agent/tools/bosun/9.9.9/bosun "$BOSUN" \
    && ok "bosun-install.yml installs the binary into the tool cache" || fail "bosun-install.yml installs the binary" "$(ls -R agent/tools)"
grep -q "##vso\[task.prependpath\]$W/agent/tools/bosun/9.9.9" inst.log && ok "bosun-install.yml puts it on PATH" || fail "bosun-install.yml puts it on PATH" "$(cat inst.log)"
printf '{"version": "9.9.8", "url": "file://%s", "sha256": "%s"}\n' "$BOSUN" "$(printf '0%.0s' {1..64})" >inst_bad.json
"$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-install.yml" inst_bad.json vars.json nosecure.json inst_bad_res.json inst_bad.log
rc=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rc"])' inst_bad_res.json)
[ "$rc" = 3 ] && ok "bosun-install.yml refuses a SHA-256 mismatch (exit 3)" || fail "bosun-install.yml refuses a SHA-256 mismatch" "rc=$rc" "$(cat inst_bad.log)"
[ ! -e agent/tools/bosun/9.9.8/bosun ] && ok "nothing installed on a mismatch" || fail "nothing installed on a mismatch"
grep -q 'task.logissue type=error\]bosun-install: SHA-256 mismatch' inst_bad.log && ok "mismatch reported as a pipeline error" || fail "mismatch reported as a pipeline error" "$(cat inst_bad.log)"

# ---- a signed and an unsigned image for the verify gates
export COSIGN_PASSWORD=tplpw
unset BOSUN_KEY_PASSWORD BOSUN_PASSWORD BOSUN_USERNAME
registry_start_open
make_busybox_oci "$W/bb" 1.0 >/dev/null
DIG=$IMG_MANIFEST_DIGEST
"$BOSUN" copy -q "oci:$W/bb:1.0" "$REG/app/signed:1.0" >/dev/null
"$BOSUN" copy -q "oci:$W/bb:1.0" "$REG/app/unsigned:1.0" >/dev/null
"$BOSUN" keygen -q --output-key-prefix "$W/k" >/dev/null 2>&1
"$BOSUN" sign -q --key "$W/k.key" "$REG/app/signed:1.0" >/dev/null 2>&1
cp "$W/k.pub" "$W/secure-cosign.pub"
printf '{"cosign.pub": "%s"}\n' "$W/secure-cosign.pub" >secure.json

# ---- bosun-verify.yml, the deploy gate (bosun from the install above on PATH)
export PATH="$W/agent/tools/bosun/9.9.9:$PATH"
printf '{"image": "%s/app/signed@%s", "publicKeySecureFile": "cosign.pub"}\n' "$REG" "$DIG" >ver.json
"$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-verify.yml" ver.json vars.json secure.json ver_res.json ver.log
rc=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rc"])' ver_res.json)
[ "$rc" = 0 ] && ok "bosun-verify.yml passes a signed image" || fail "bosun-verify.yml passes a signed image" "rc=$rc" "$(cat ver.log)"
printf '{"image": "%s/app/unsigned@%s", "publicKeySecureFile": "cosign.pub"}\n' "$REG" "$DIG" >ver2.json
"$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-verify.yml" ver2.json vars.json secure.json ver2_res.json ver2.log
rc=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rc"])' ver2_res.json)
[ "$rc" = 1 ] && ok "bosun-verify.yml stops an unsigned image (exit 1)" || fail "bosun-verify.yml stops an unsigned image" "rc=$rc" "$(cat ver2.log)"
grep -q 'task.logissue type=error\].*is not signed by the expected key' ver2.log && ok "the gate says why" || fail "the gate says why" "$(cat ver2.log)"

# ---- the patch parameters and bosun-patch.yml: expanded, then their bash
# steps run against a bosun stand-in that records its arguments and answers
# as told (tests/e2e/63_templates_ship.sh runs them with the real bosun)
mkdir -p stub
cat >stub/bosun <<'SH'
#!/usr/bin/env bash
printf '%s\n' "$@" >"$STUB_ARGS"
printf '%b' "${STUB_STDOUT:-}"
printf '%b' "${STUB_STDERR:-}" >&2
exit "${STUB_RC:-0}"
SH
chmod +x stub/bosun
# stub_run NAME TEMPLATE PARAMS_JSON [RC [STDOUT [STDERR]]]: NAME.res, NAME.log, NAME.args
stub_run() {
    printf '%s\n' "$3" >"$1.params"
    STUB_ARGS="$W/$1.args" STUB_RC="${4:-0}" STUB_STDOUT="${5:-}" STUB_STDERR="${6:-}" PATH="$W/stub:$PATH" \
        "$PYTHON" azp.py run "$REPO/pipeline-templates/steps/$2" "$1.params" vars.json nosecure.json "$1.res" "$1.log"
}
args_are() { [ "$(tr '\n' ' ' <"$1.args" 2>/dev/null)" = "$2 " ]; }
jq_() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
PDIG="sha256:$(printf 'd%.0s' {1..64})"

stub_run sp1 bosun-ship.yml '{"repository": "reg.example/team/app", "tags": ["1"], "patch": true, "attest": false,
  "packageMirrors": ["http://mirror.example/debian-security", "main=http://mirror.example/debian"], "toolImage": "reg.example/tools/debian:12-slim"}'
args_are sp1 "ship -f Dockerfile --platform linux/amd64 --fail-on high --report-dir $W/agent/staging/bosun-reports -t reg.example/team/app:1 --patch --package-mirror http://mirror.example/debian-security --package-mirror main=http://mirror.example/debian --tool-image reg.example/tools/debian:12-slim --no-ci-publish ." \
    && ok "bosun-ship.yml: patch, packageMirrors and toolImage become --patch, --package-mirror each, --tool-image" || fail "bosun-ship.yml patch arguments" "$(cat sp1.args)" "$(tail -5 sp1.log)"
stub_run sp2 bosun-ship.yml '{"repository": "reg.example/team/app", "tags": ["1"], "packageMirrors": ["http://mirror.example/debian-security"], "toolImage": "t/x:1"}'
[ -s sp2.args ] && ! grep -qE -- '^--(patch|package-mirror|tool-image)$' sp2.args \
    && ok "bosun-ship.yml: without patch, no patch options reach bosun" || fail "bosun-ship.yml without patch" "$(cat sp2.args)"
echo '{"repository": "r/a", "patch": "sometimes"}' >bad_params3.json
expect_exit 1 "bosun-ship.yml refuses a non-boolean patch" "$PYTHON" azp.py expand "$REPO/pipeline-templates/steps/bosun-ship.yml" bad_params3.json
cat >matrix_params.json <<'JS'
{"images": [{"name": "api", "repository": "reg.example/team/api"}], "bosunVersion": "1.0.0", "bosunUrl": "https://d.example/b",
 "bosunSha256": "00", "patch": true, "packageMirrors": ["http://mirror.example/debian-security"], "toolImage": "reg.example/tools/debian:12-slim"}
JS
"$PYTHON" azp.py expand "$REPO/pipeline-templates/jobs/bosun-matrix.yml" matrix_params.json >matrix_expanded.json 2>expand.err
check "bosun-matrix.yml passes patch, packageMirrors and toolImage to every leg's ship step" "$PYTHON" -c '
import json, sys
jobs = json.load(open(sys.argv[1]))
ship = [s for s in jobs[0]["steps"] if s.get("name") == "bosun"][0]
e = ship["env"]
assert str(e["BOSUN_PATCH"]) == "True" and e["BOSUN_PACKAGE_MIRRORS"] == "http://mirror.example/debian-security", e
assert e["BOSUN_TOOL_IMAGE"] == "reg.example/tools/debian:12-slim", e
' matrix_expanded.json

# bosun-patch.yml: each mode's command line
UP='patch: reading x\npatch: 2 packages upgraded in 1.5 s: zlib1g 1:1.2.13.dfsg-1 -> 1:1.2.13.dfsg-1+deb12u1, libc6 2.36-9 -> 2.36-9+deb12u9\n'
stub_run pp1 bosun-patch.yml '{"image": "reg.example/team/app:1", "destinations": ["reg.example/team/app:1-p", "oci:/srv/out:p"],
  "dbFile": "/srv/vuln.db", "dbMaxAge": "0", "packageMirrors": ["security=http://m.example/ds", "main=http://m.example/d"],
  "toolImage": "reg.example/tools/debian:12-slim", "platform": "linux/arm64"}' 0 "$PDIG\n" "$UP"
args_are pp1 "patch --db /srv/vuln.db --db-max-age 0 -t reg.example/team/app:1-p -t oci:/srv/out:p --package-mirror security=http://m.example/ds --package-mirror main=http://m.example/d --tool-image reg.example/tools/debian:12-slim --platform linux/arm64 reg.example/team/app:1" \
    && ok "bosun-patch.yml (mode db): --db, --db-max-age, -t each, --package-mirror each, --tool-image, --platform" || fail "bosun-patch.yml db arguments" "$(cat pp1.args)" "$(tail -5 pp1.log)"
[ "$(jq_ pp1.res 'd["rc"]')" = 0 ] && [ "$(jq_ pp1.res 'd["outputs"].get("bosunPatch.patched")')" = true ] \
    && [ "$(jq_ pp1.res 'd["outputs"].get("bosunPatch.patchedDigest")')" = "$PDIG" ] \
    && ok "bosun-patch.yml: outputs patchedDigest (bosun's stdout) and patched=true (its 'packages upgraded' line)" || fail "bosun-patch.yml outputs" "$(jq_ pp1.res 'd["outputs"]')" "$(tail -5 pp1.log)"
grep -q '^patch: 2 packages upgraded' pp1.log && ok "bosun-patch.yml: bosun's narration stays in the log" || fail "bosun-patch.yml narration" "$(cat pp1.log)"
stub_run pp2 bosun-patch.yml '{"image": "r.example/a:1", "destinations": ["r.example/a:p"], "mode": "all"}' 0 "$PDIG\n" 'patch: nothing to patch: the mirrors have no newer version of the packages wanted\n'
args_are pp2 "patch --all -t r.example/a:p r.example/a:1" && [ "$(jq_ pp2.res 'd["outputs"].get("bosunPatch.patched")')" = false ] \
    && ok "bosun-patch.yml (mode all): --all; nothing to patch gives patched=false" || fail "bosun-patch.yml all" "$(cat pp2.args)" "$(jq_ pp2.res 'd["outputs"]')"
stub_run pp3 bosun-patch.yml '{"image": "r.example/a:1", "destinations": ["r.example/a:p"], "mode": "only", "only": ["zlib1g", "libssl3"], "stepName": "fix"}' 0 "$PDIG\n" ''
args_are pp3 "patch --only zlib1g,libssl3 -t r.example/a:p r.example/a:1" && [ "$(jq_ pp3.res 'd["outputs"].get("fix.patched")')" = "" ] \
    && grep -q 'task.logissue type=warning\]bosun-patch: bosun said neither' pp3.log \
    && ok "bosun-patch.yml (mode only): --only joined; stepName names the outputs; no narration: patched empty and a warning" || fail "bosun-patch.yml only" "$(cat pp3.args)" "$(jq_ pp3.res 'd["outputs"]')"
stub_run pp4 bosun-patch.yml '{"image": "r.example/a:1", "destinations": ["r.example/a:p"], "mode": "report", "report": "/srv/scan.json"}' 4 '' \
    'patch: reading r.example/a:1\nbosun patch: patch r.example/a:1: apt-get update failed (a package archive could not be reached)\n'
args_are pp4 "patch --report /srv/scan.json -t r.example/a:p r.example/a:1" && [ "$(jq_ pp4.res 'd["rc"]')" = 4 ] \
    && grep -q 'task.logissue type=error\]bosun patch failed: exit 4 (registry or network error): patch r.example/a:1: apt-get update failed (a package archive could not be reached)$' pp4.log \
    && [ "$(jq_ pp4.res 'd["outputs"]')" = "{}" ] \
    && ok "bosun-patch.yml (mode report): --report; exit 4 fails the step with its meaning and bosun's reason, no outputs" || fail "bosun-patch.yml report / exit 4" "$(cat pp4.args)" "$(tail -5 pp4.log)"
rm -f pp5.args
stub_run pp5 bosun-patch.yml '{"image": "r.example/a:1", "destinations": ["r.example/a:p"], "mode": "report"}'
[ "$(jq_ pp5.res 'd["rc"]')" = 2 ] && [ ! -e pp5.args ] && grep -q 'bosun-patch: mode report needs the report parameter' pp5.log \
    && ok "bosun-patch.yml: mode report without a report fails (exit 2) before bosun runs" || fail "bosun-patch.yml report missing" "$(tail -5 pp5.log)"
echo '{"image": "r/a:1", "destinations": ["r/a:p"], "mode": "fix"}' >bad_patch.json
expect_exit 1 "bosun-patch.yml refuses a mode outside its values" "$PYTHON" azp.py expand "$REPO/pipeline-templates/steps/bosun-patch.yml" bad_patch.json
expect_out "the bad parameter is named" "mode"
echo '{"image": "r/a:1"}' >bad_patch2.json
expect_exit 1 "bosun-patch.yml requires destinations" "$PYTHON" azp.py expand "$REPO/pipeline-templates/steps/bosun-patch.yml" bad_patch2.json
cat >patch_db_params.json <<'JS'
{"image": "r.example/a:1", "destinations": ["r.example/a:p"], "dbRepository": "r.example/sec/db:1", "dbFile": "/ignored.db",
 "registryServiceConnection": "acr", "registryUsernameVariable": "u", "registryPasswordVariable": "p"}
JS
"$PYTHON" azp.py expand "$REPO/pipeline-templates/steps/bosun-patch.yml" patch_db_params.json >patch_expanded.json 2>expand.err
check "bosun-patch.yml with dbRepository: login, pull the database first, credentials only in env" "$PYTHON" -c '
import json, sys
st = json.load(open(sys.argv[1]))
assert st[0]["task"] == "Docker@2" and st[0]["inputs"]["containerRegistry"] == "acr", st[0]
assert "bosun db pull" in st[1]["bash"] and st[1]["env"]["BOSUN_DB_REPOSITORY"] == "r.example/sec/db:1", st[1]
p = st[2]
assert p["name"] == "bosunPatch" and p["env"]["BOSUN_PASSWORD"] == "$(p)" and p["env"]["BOSUN_USERNAME"] == "$(u)", p["env"]
assert "$(p)" not in p["bash"]
' patch_expanded.json

# ---- groovy: compile everything in one JVM
if ! command -v groovy >/dev/null; then
    fail "groovy installed (apt-get install groovy default-jre-headless)"
    finish
fi
mapfile -t GROOVY < <(cd "$REPO" && find jenkins -name '*.groovy' -o -name Jenkinsfile | sort)
[ "${#GROOVY[@]}" -ge 4 ] && ok "found ${#GROOVY[@]} groovy files" || fail "found the groovy files" "${GROOVY[*]}"
(cd "$REPO" && groovy "$W/gcheck.groovy" "${GROOVY[@]}") >gcheck.out 2>&1 && RC=0 || RC=$?
for g in "${GROOVY[@]}"; do
    grep -qx "$g: ok" gcheck.out && ok "groovy compiles $g" || fail "groovy compiles $g" "$(cat gcheck.out)"
done
printf 'def call(Map a = [:]) {\n  sh(script: "x"\n}\n' >broken.groovy
groovy gcheck.groovy broken.groovy >/dev/null 2>&1 && fail "groovy check rejects a syntax error" || ok "groovy check rejects a syntax error"
# secrets never pass through Groovy strings: every sh script of the ship library is single-quoted
LIB=("$REPO"/jenkins/vars/bosunInstall.groovy "$REPO"/jenkins/vars/bosunShip.groovy "$REPO"/jenkins/vars/bosunVerify.groovy "$REPO"/jenkins/vars/bosunPatch.groovy)
n_sh=$(cat "${LIB[@]}" | grep -c 'sh(')
n_sq=$(cat "${LIB[@]}" | grep -c "script: '''")
[ "$n_sh" -gt 0 ] && [ "$n_sh" = "$n_sq" ] && ok "every sh script in the library is single-quoted ($n_sq)" \
    || fail "every sh script in the library is single-quoted" "sh( calls: $n_sh, single-quoted: $n_sq"

# ---- the shared library's steps, run
jrun() { groovy jrun.groovy "$REPO/jenkins/vars" "$1" 2>"$1.log" | tail -1 >"$1.out"; }
mkdir -p ws
printf '{"step": "bosunInstall", "env": {"WORKSPACE": "%s/ws"}, "args": {"version": "1.2.3", "file": "%s", "sha256": "%s"}}\n' "$W" "$BOSUN" "$SHA" >j1.json
jrun j1.json
[ "$(jq_ j1.json.out 'd["env"].get("BOSUN_BIN")')" = "$W/ws/.bosun/bosun/1.2.3/bosun" ] && [ -x "$W/ws/.bosun/bosun/1.2.3/bosun" ] \
    && ok "bosunInstall installs and sets BOSUN_BIN" || fail "bosunInstall installs and sets BOSUN_BIN" "$(cat j1.json.out j1.json.log)"
printf '{"step": "bosunInstall", "env": {"WORKSPACE": "%s/ws"}, "args": {"version": "1.2.4", "file": "%s", "sha256": "%s"}}\n' "$W" "$BOSUN" "$(printf 'a%.0s' {1..64})" >j2.json
jrun j2.json
jq_ j2.json.out 'd["error"]' | grep -q 'exit code 3' && [ ! -e "$W/ws/.bosun/bosun/1.2.4/bosun" ] \
    && ok "bosunInstall fails on a SHA-256 mismatch" || fail "bosunInstall fails on a SHA-256 mismatch" "$(cat j2.json.out j2.json.log)"
printf '{"step": "bosunInstall", "env": {}, "args": {"version": "1"}}\n' >j3.json
jrun j3.json
jq_ j3.json.out 'd["error"]' | grep -q 'version and sha256 are required' && ok "bosunInstall checks its arguments" || fail "bosunInstall checks its arguments" "$(cat j3.json.out)"
BIN=$W/ws/.bosun/bosun/1.2.3/bosun
printf '{"step": "bosunVerify", "env": {"BOSUN_BIN": "%s"}, "credentials": {"pub": "%s"}, "args": {"image": "%s/app/signed@%s", "publicKeyCredentialsId": "pub"}}\n' "$BIN" "$W/k.pub" "$REG" "$DIG" >j4.json
jrun j4.json
[ "$(jq_ j4.json.out 'd["result"]')" = True ] && [ "$(jq_ j4.json.out 'd["error"]')" = None ] \
    && ok "bosunVerify accepts the signed image" || fail "bosunVerify accepts the signed image" "$(cat j4.json.out j4.json.log)"
jq_ j4.json.out 'd["calls"][0]["ids"]' | grep -q "'pub'" && ok "bosunVerify reads the key through withCredentials" || fail "bosunVerify reads the key through withCredentials" "$(cat j4.json.out)"
sed "s#app/signed#app/unsigned#" j4.json >j5.json
jrun j5.json
jq_ j5.json.out 'd["error"]' | grep -q 'is not signed by the expected key' && ok "bosunVerify stops the unsigned image with error()" || fail "bosunVerify stops the unsigned image" "$(cat j5.json.out j5.json.log)"

# bosunPatch and bosunShip's patch options against the bosun stand-in
# jstub NAME SCENARIO_JSON [RC [STDOUT [STDERR]]]: NAME.out, NAME.args
jstub() {
    printf '%s\n' "$2" >"$1.json"
    (cd ws && STUB_ARGS="$W/$1.args" STUB_RC="${3:-0}" STUB_STDOUT="${4:-}" STUB_STDERR="${5:-}" \
        groovy "$W/jrun.groovy" "$REPO/jenkins/vars" "$W/$1.json" 2>"$W/$1.log" | tail -1 >"$W/$1.out")
}
jstub jp1 "{\"step\": \"bosunPatch\", \"env\": {\"BOSUN_BIN\": \"$W/stub/bosun\"}, \"credentials\": {\"reg\": [\"ci\", \"pw\"]},
  \"args\": {\"image\": \"r.example/a:1\", \"tags\": [\"r.example/a:1-p\", \"oci:/srv/o:p\"], \"db\": \"/srv/vuln.db\", \"dbMaxAge\": \"0\",
  \"packageMirrors\": [\"http://m.example/ds\", \"main=http://m.example/d\"], \"toolImage\": \"t.example/debian:12-slim\",
  \"platform\": \"linux/arm64\", \"registryCredentialsId\": \"reg\"}}" 0 "$PDIG\n" "$UP"
args_are jp1 "patch --db /srv/vuln.db --db-max-age 0 --package-mirror http://m.example/ds --package-mirror main=http://m.example/d --tool-image t.example/debian:12-slim -t r.example/a:1-p -t oci:/srv/o:p --platform linux/arm64 r.example/a:1" \
    && ok "bosunPatch: db, dbMaxAge, packageMirrors, toolImage, tags, platform become bosun patch's options" || fail "bosunPatch arguments" "$(cat jp1.args)" "$(cat jp1.out jp1.log)"
[ "$(jq_ jp1.out 'd["result"]["patchedDigest"]')" = "$PDIG" ] && [ "$(jq_ jp1.out 'd["result"]["patched"]')" = true ] \
    && [ "$(jq_ jp1.out 'd["error"]')" = None ] && jq_ jp1.out 'd["calls"][0]["ids"]' | grep -q "'reg'" \
    && ok "bosunPatch: returns patchedDigest and patched=true; registry credentials through withCredentials" || fail "bosunPatch result" "$(cat jp1.out)"
jstub jp2 "{\"step\": \"bosunPatch\", \"env\": {\"BOSUN_BIN\": \"$W/stub/bosun\"}, \"args\": {\"image\": \"r.example/a:1\", \"tags\": \"r.example/a:p\", \"only\": \"zlib1g, libc6\"}}" \
    0 "$PDIG\n" 'patch: nothing to patch: no installed package has a fix to take\n'
args_are jp2 "patch --only zlib1g,libc6 -t r.example/a:p r.example/a:1" && [ "$(jq_ jp2.out 'd["result"]["patched"]')" = false ] \
    && ok "bosunPatch: only as a string, one tag as a string; nothing to patch gives patched=false" || fail "bosunPatch only" "$(cat jp2.args)" "$(cat jp2.out)"
jstub jp3 "{\"step\": \"bosunPatch\", \"env\": {\"BOSUN_BIN\": \"$W/stub/bosun\"}, \"args\": {\"image\": \"r.example/a:1\", \"tags\": [\"r.example/a:p\"], \"all\": true}}" \
    4 '' 'bosun patch: patch r.example/a:1: apt-get update failed (a package archive could not be reached)\n'
args_are jp3 "patch --all -t r.example/a:p r.example/a:1" \
    && [ "$(jq_ jp3.out 'd["error"]')" = "bosunPatch: bosun patch failed with exit code 4 (registry or network): patch r.example/a:1: apt-get update failed (a package archive could not be reached)" ] \
    && ok "bosunPatch: all: --all; exit 4 is error() with its meaning and bosun's reason" || fail "bosunPatch exit 4" "$(cat jp3.args)" "$(cat jp3.out)"
rm -f jp4.args jp5.args
jstub jp4 "{\"step\": \"bosunPatch\", \"env\": {\"BOSUN_BIN\": \"$W/stub/bosun\"}, \"args\": {\"image\": \"r.example/a:1\", \"tags\": [\"r.example/a:p\"], \"all\": true, \"db\": \"/x.db\"}}"
jstub jp5 "{\"step\": \"bosunPatch\", \"env\": {\"BOSUN_BIN\": \"$W/stub/bosun\"}, \"args\": {\"image\": \"r.example/a:1\"}}"
[ "$(jq_ jp4.out 'd["error"]')" = "bosunPatch: give one of db, report, all and only" ] && [ "$(jq_ jp5.out 'd["error"]')" = "bosunPatch: tags (the destinations) are required" ] \
    && [ ! -e jp4.args ] && [ ! -e jp5.args ] && ok "bosunPatch: two modes, or no tags, fail before bosun runs" || fail "bosunPatch argument checks" "$(cat jp4.out jp5.out)"
jstub js1 "{\"step\": \"bosunShip\", \"env\": {\"BOSUN_BIN\": \"$W/stub/bosun\", \"BUILD_NUMBER\": \"7\"},
  \"args\": {\"repository\": \"r.example/a\", \"patch\": true, \"packageMirrors\": [\"http://m.example/ds\"], \"toolImage\": \"t.example/debian:12-slim\", \"publish\": false}}"
args_are js1 "ship -f Dockerfile --platform linux/amd64 --fail-on high --report-dir bosun-reports -t r.example/a:7 --patch --package-mirror http://m.example/ds --tool-image t.example/debian:12-slim ." \
    && ok "bosunShip: patch, packageMirrors and toolImage become --patch, --package-mirror each, --tool-image" || fail "bosunShip patch arguments" "$(cat js1.args)" "$(cat js1.out js1.log)"
jstub js2 "{\"step\": \"bosunShip\", \"env\": {\"BOSUN_BIN\": \"$W/stub/bosun\", \"BUILD_NUMBER\": \"7\"},
  \"args\": {\"repository\": \"r.example/a\", \"packageMirrors\": [\"http://m.example/ds\"], \"toolImage\": \"t.example/debian:12-slim\", \"publish\": false}}"
[ -s js2.args ] && ! grep -qE -- '^--(patch|package-mirror|tool-image)$' js2.args \
    && ok "bosunShip: without patch, no patch options reach bosun" || fail "bosunShip without patch" "$(cat js2.args)"
finish
