#!/usr/bin/env bash
# bosun-ship.yml and bosunShip run for real: the Azure template expanded
# with its parameters and its steps run in bash with Azure's predefined
# variables (as in 61_templates.sh), and the Jenkins library step run with
# Jenkins' steps stubbed; both against a local registry, checking the
# outputs, the published results and that secrets stay in the environment.
# bosun-patch.yml and bosunPatch too, on the bookworm minbase, offline:
# unreachable archives (exit 4, nothing pushed) and an empty database
# (nothing to patch: patched=false, the image unchanged).
set -u
source "$(dirname "$0")/../lib/registry.sh"
source "$TESTLIB/images.sh"
source "$REPO/tests/bench/scan_rootfs.sh"

W=$(tmpdir_new templates-ship)
cd "$W" || exit 1
unset TF_BUILD JENKINS_URL GITHUB_OUTPUT GITHUB_STEP_SUMMARY BOSUN_KEY_PASSWORD BOSUN_PASSWORD BOSUN_USERNAME COSIGN_PASSWORD
# the tools of 61_templates.sh: the template expander/runner and the Jenkins stub runner
sed -n "/^cat >azp.py <<'PY'$/,/^PY$/p" "$REPO/tests/e2e/61_templates.sh" | sed '1d;$d' >azp.py
sed -n "/^cat >jrun.groovy <<'GR'$/,/^GR$/p" "$REPO/tests/e2e/61_templates.sh" | sed '1d;$d' >jrun.groovy
[ -s azp.py ] && [ -s jrun.groovy ] && ok "runner tools extracted from 61_templates.sh" || fail "runner tools extracted"
jq_() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
http_code() { curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/$1/manifests/$2"; }

registry_start_open
make_busybox_oci "$W/base" 1 >/dev/null
"$BOSUN" copy -q "oci:$W/base:1" "$REG/base/busybox:1" >/dev/null
mkdir -p osv app
cat >osv/BOSUN-DEMO-0002.json <<'J'
{"schema_version": "1.6.0", "id": "BOSUN-DEMO-0002", "modified": "2026-01-01T00:00:00Z", "summary": "DEMO DATA",
 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}],
 "affected": [{"package": {"ecosystem": "Alpine:v3.10", "name": "musl"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.22-r3"}]}]}]}
J
"$BOSUN" db build --osv osv -o "$W/vuln.db" >/dev/null 2>&1
printf 'FROM %s/base/busybox:1\nARG APP_VERSION\nRUN echo "$APP_VERSION" >/version\n' "$REG" >app/Dockerfile
KEYPW='s3cr;et]pw'
COSIGN_PASSWORD="$KEYPW" "$BOSUN" keygen -q --output-key-prefix "$W/k" >/dev/null 2>&1
cp k.key secure-cosign.key
mkdir -p agent/tmp agent/staging bin
ln -s "$BOSUN" bin/bosun
export PATH="$W/bin:$PATH"

# ---- Azure: bosun-ship.yml
cat >vars.json <<JS
{"Agent.TempDirectory": "$W/agent/tmp", "Build.ArtifactStagingDirectory": "$W/agent/staging",
 "Build.SourcesDirectory": "$W", "Build.BuildId": "77", "System.JobAttempt": "1", "TF_BUILD": "True",
 "cosignPassword": "$KEYPW", "_secrets": ["cosignPassword"]}
JS
printf '{"cosign.key": "%s/secure-cosign.key"}\n' "$W" >secure.json
cat >params.json <<JS
{"repository": "$REG/team/app", "tags": ["\$(Build.BuildId)", "latest"], "context": "app", "dockerfile": "app/Dockerfile",
 "buildArgs": {"APP_VERSION": "2.0"}, "dbFile": "$W/vuln.db", "failOn": "high",
 "signingKeySecureFile": "cosign.key", "signingKeyPasswordVariable": "cosignPassword"}
JS
check "bosun-ship.yml runs" "$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-ship.yml" params.json vars.json secure.json res.json run.log
[ "$(jq_ res.json 'd["rc"]')" = 0 ] && ok "bosun-ship.yml: every step succeeded" || fail "bosun-ship.yml: steps" "$(tail -30 run.log)"
DIG=$(jq_ res.json 'd["outputs"].get("bosun.imageDigest")')
[[ "$DIG" == sha256:* ]] && ok "output bosun.imageDigest" || fail "output bosun.imageDigest" "$(jq_ res.json 'd["outputs"]')"
[ "$(jq_ res.json 'd["outputs"].get("bosun.imageRef")')" = "$REG/team/app:77" ] && ok "output bosun.imageRef uses Build.BuildId" || fail "output imageRef"
[ "$(jq_ res.json 'd["outputs"].get("bosun.policyPassed")')" = true ] && [ "$(jq_ res.json 'd["outputs"].get("bosun.signed")')" = true ] \
    && ok "outputs policyPassed and signed" || fail "outputs policyPassed/signed" "$(jq_ res.json 'd["outputs"]')"
for t in 77 latest; do
    [ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/team/app:$t" 2>&1)" = "$DIG" ] \
        && ok "pushed $REG/team/app:$t" || fail "pushed team/app:$t"
done
check "bosun verify accepts the image shipped by the template" "$BOSUN" verify --key k.pub --attestation slsaprovenance "$REG/team/app@$DIG"
check "the build argument reached the build" sh -c "'$BOSUN' copy -q 'docker://$REG/team/app:77' 'oci:$W/got:1' >/dev/null && grep -rqa '^2.0$' '$W/got/blobs' || (cd '$W/got/blobs/sha256' && for f in *; do tar -xzOf \$f version 2>/dev/null; done | grep -qx 2.0)"
[ -s agent/staging/bosun-reports/junit.xml ] && ok "reports in \$(Build.ArtifactStagingDirectory)/bosun-reports" || fail "reports in the staging dir" "$(ls -R agent/staging)"
jq_ res.json '[t for t in d["tasks"] if t[0] == "PublishTestResults@2"][0][1]' >pub.txt
grep -q "'testResultsFiles': '$W/agent/staging/bosun-reports/junit.xml'" pub.txt && grep -q "'testRunTitle': 'bosun $REG/team/app'" pub.txt \
    && ok "PublishTestResults@2 gets the JUnit and the run title" || fail "PublishTestResults@2 inputs" "$(cat pub.txt)"
grep -q 'results.publish' run.log && fail "no double publishing (--no-ci-publish)" "$(grep results.publish run.log)" || ok "no double publishing (--no-ci-publish)"
grep -q 'task.uploadsummary' run.log && ok "the summary is uploaded" || fail "the summary is uploaded"
grep -qF "$KEYPW" run.log && fail "the key password stays out of the log" || ok "the key password stays out of the log"

# the database from the registry (dbRepository: bosun db push, then the template pulls it)
check "bosun db push" "$BOSUN" db push --db "$W/vuln.db" "$REG/security/bosun-db:latest"
cat >params_db.json <<JS
{"repository": "$REG/team/dbapp", "context": "app", "dockerfile": "app/Dockerfile", "buildArgs": {"APP_VERSION": "2.1"},
 "dbRepository": "$REG/security/bosun-db:latest", "reportDir": "$W/rep-db"}
JS
"$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-ship.yml" params_db.json vars.json secure.json res_db.json run_db.log
BUILT=$("$BOSUN" db info "$W/vuln.db" 2>/dev/null | sed -n 's/^built: //p')
[ "$(jq_ res_db.json 'd["rc"]')" = 0 ] && [ -s agent/tmp/bosun-vuln.db ] && [ -n "$BUILT" ] \
    && [ "$(jq_ rep-db/results.json 'd["database"]["version"]')" = "$BUILT" ] \
    && ok "dbRepository: the database is pulled from the registry and used" || fail "dbRepository" "$(tail -20 run_db.log)"

# a failing gate: the step fails with 1, publishing still runs (condition: always())
mkdir -p bad/lib/apk/db bad/etc
printf 'FROM %s/base/busybox:1\nCOPY lib /lib\nCOPY etc /etc\n' "$REG" >bad/Dockerfile
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.2\n' >bad/etc/os-release
printf 'P:musl\nV:1.1.22-r2\no:musl\n\n' >bad/lib/apk/db/installed
cat >params_bad.json <<JS
{"repository": "$REG/team/bad", "context": "bad", "dockerfile": "bad/Dockerfile", "dbFile": "$W/vuln.db",
 "failOn": "low", "reportDir": "$W/rep-bad"}
JS
"$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-ship.yml" params_bad.json vars.json secure.json res_bad.json run_bad.log
[ "$(jq_ res_bad.json 'd["rc"]')" = 1 ] && ok "failing gate: the step exits 1" || fail "failing gate: step rc" "$(tail -20 run_bad.log)"
[ "$(jq_ res_bad.json '[t[0] for t in d["tasks"]]')" = "['PublishTestResults@2', 'PublishPipelineArtifact@1']" ] \
    && ok "failing gate: results and report still published" || fail "failing gate: publishing" "$(jq_ res_bad.json 'd["tasks"]')"
[ "$(http_code team/bad 77)" = 404 ] && ok "failing gate: nothing pushed" || fail "failing gate: nothing pushed"

# patch: true reaches bosun ship (a clean image: the gate passes, nothing to patch)
cat >params_patch.json <<JS
{"repository": "$REG/team/papp", "tags": ["1"], "context": "app", "dockerfile": "app/Dockerfile", "buildArgs": {"APP_VERSION": "2.2"},
 "dbFile": "$W/vuln.db", "reportDir": "$W/rep-patch", "patch": true, "packageMirrors": ["http://127.0.0.1:9/debian-security"],
 "toolImage": "$REG/tools/debian:12-slim"}
JS
"$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-ship.yml" params_patch.json vars.json secure.json res_patch.json run_patch.log
[ "$(jq_ res_patch.json 'd["rc"]')" = 0 ] && grep -q -- "--patch --package-mirror http://127.0.0.1:9/debian-security --tool-image $REG/tools/debian:12-slim" run_patch.log \
    && [ "$(jq_ rep-patch/results.json 'd["patch"]')" = None ] && [ "$(http_code team/papp 1)" = 200 ] \
    && ok "bosun-ship.yml patch: true: bosun ship --patch runs with the mirror and tool image; a passing gate ships unpatched" || fail "bosun-ship.yml patch: true" "$(tail -20 run_patch.log)"

# ---- bosun-patch.yml on the bookworm minbase (no archive is reached)
MINBASE=""
if ! MINBASE=$(rootfs_bookworm_oci 2>minbase.why); then
    skip "bosun-patch.yml and bosunPatch on the bookworm minbase" "no minbase: $(cat minbase.why)"
    MINBASE=""
else
    SRCDIG="sha256:$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$MINBASE/index.json")"
    DOWN=$(free_port)
    mkdir -p osv-empty
    "$BOSUN" -q db build --osv osv-empty -o "$W/empty.db" >/dev/null 2>&1 || fail "an empty database builds"
    cat >pparams1.json <<JS
{"image": "oci:$MINBASE:12", "destinations": ["$REG/minbase:unreachable"], "mode": "only", "only": ["zlib1g"],
 "packageMirrors": ["http://127.0.0.1:$DOWN/x", "main=http://127.0.0.1:$DOWN/y"]}
JS
    "$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-patch.yml" pparams1.json vars.json secure.json pres1.json prun1.log
    [ "$(jq_ pres1.json 'd["rc"]')" = 4 ] && grep -q 'task.logissue type=error\]bosun patch failed: exit 4 (registry or network error): .*apt-get update failed (a package archive could not be reached)' prun1.log \
        && ok "bosun-patch.yml: unreachable archives fail the step with exit 4 and bosun's reason" || fail "bosun-patch.yml unreachable" "$(tail -20 prun1.log)"
    [ "$(http_code minbase unreachable)" = 404 ] && [ "$(jq_ pres1.json 'd["outputs"]')" = "{}" ] \
        && ok "bosun-patch.yml: unreachable archives: nothing pushed, no outputs" || fail "bosun-patch.yml unreachable: pushed" "$(jq_ pres1.json 'd["outputs"]')"
    cat >pparams2.json <<JS
{"image": "oci:$MINBASE:12", "destinations": ["$REG/minbase:same"], "dbFile": "$W/empty.db", "dbMaxAge": "0"}
JS
    "$PYTHON" azp.py run "$REPO/pipeline-templates/steps/bosun-patch.yml" pparams2.json vars.json secure.json pres2.json prun2.log
    RD="sha256:$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/minbase/manifests/same" | sha256sum | cut -d' ' -f1)"
    [ "$(jq_ pres2.json 'd["rc"]')" = 0 ] && [ "$(jq_ pres2.json 'd["outputs"].get("bosunPatch.patched")')" = false ] \
        && [ "$(jq_ pres2.json 'd["outputs"].get("bosunPatch.patchedDigest")')" = "$SRCDIG" ] && [ "$RD" = "$SRCDIG" ] \
        && ok "bosun-patch.yml: an empty database: nothing to patch, patched=false, patchedDigest and the pushed image are the source's" \
        || fail "bosun-patch.yml nothing to patch" "rc $(jq_ pres2.json 'd["rc"]') $(jq_ pres2.json 'd["outputs"]') registry $RD source $SRCDIG" "$(tail -20 prun2.log)"
fi

# ---- Jenkins: bosunShip
if ! command -v groovy >/dev/null; then
    fail "groovy installed"
    finish
fi
cat >j1.json <<JS
{"step": "bosunShip", "env": {"BUILD_NUMBER": "12", "JENKINS_URL": "http://jenkins.example/", "BOSUN_BIN": "$BOSUN"},
 "credentials": {"cosign": "$W/k.key", "cosign-pw": "$KEYPW", "reg": ["ci", "unused"]},
 "args": {"repository": "$REG/team/japp", "context": "app", "dockerfile": "app/Dockerfile", "buildArgs": {"APP_VERSION": "3.0"},
          "db": "$W/vuln.db", "keyCredentialsId": "cosign", "keyPasswordCredentialsId": "cosign-pw", "reportDir": "jrep"}}
JS
groovy jrun.groovy "$REPO/jenkins/vars" j1.json 2>j1.log | tail -1 >j1.out
[ "$(jq_ j1.out 'd["error"]')" = None ] && [ "$(jq_ j1.out 'd["unstable"]')" = None ] \
    && ok "bosunShip: a clean image succeeds" || fail "bosunShip: clean image" "$(cat j1.out)" "$(tail -20 j1.log)"
JD=$(jq_ j1.out 'd["result"]["imageDigest"]')
[[ "$JD" == sha256:* ]] && [ "$(jq_ j1.out 'd["result"]["exitCode"]')" = 0 ] && ok "bosunShip returns the outputs from bosun.properties" || fail "bosunShip outputs" "$(cat j1.out)"
[ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/team/japp:12" 2>&1)" = "$JD" ] && ok "bosunShip pushed tag BUILD_NUMBER" || fail "bosunShip pushed"
check "the image bosunShip shipped verifies" "$BOSUN" verify --key k.pub "$REG/team/japp:12"
[ "$(jq_ j1.out '[c["step"] for c in d["calls"]]')" = "['withCredentials', 'junit', 'archiveArtifacts']" ] \
    && ok "bosunShip: credentials bound, junit and archiveArtifacts called" || fail "bosunShip: calls" "$(jq_ j1.out 'd["calls"]')"
grep -qF "$KEYPW" j1.out && fail "bosunShip: the password never appears in a script" || ok "bosunShip: the password never appears in a script"
sed -e 's#"repository": "[^"]*"#"repository": "'"$REG"'/team/jbad"#' -e 's#"context": "app", "dockerfile": "app/Dockerfile"#"context": "bad", "dockerfile": "bad/Dockerfile", "failOn": "low"#' j1.json >j2.json
groovy jrun.groovy "$REPO/jenkins/vars" j2.json 2>j2.log | tail -1 >j2.out
jq_ j2.out 'd["unstable"]' | grep -q 'failed the policy gate' && [ "$(jq_ j2.out 'd["error"]')" = None ] \
    && ok "bosunShip: a failed gate marks the build UNSTABLE" || fail "bosunShip: failed gate" "$(cat j2.out)"
jq_ j2.out '[c["step"] for c in d["calls"]]' | grep -q "'junit', 'archiveArtifacts'" && ok "bosunShip: reports published on a failed gate" || fail "bosunShip: reports on failure"
sed -e 's#"db": "[^"]*"#"db": "/nonexistent.db"#' j1.json >j3.json
groovy jrun.groovy "$REPO/jenkins/vars" j3.json 2>j3.log | tail -1 >j3.out
jq_ j3.out 'd["error"]' | grep -q 'exit code 3 (bad input)' && ok "bosunShip: bad input is error(), not unstable" || fail "bosunShip: bad input" "$(cat j3.out)"

# ---- Jenkins: bosunPatch on the bookworm minbase
if [ -n "$MINBASE" ]; then
    cat >jp1.json <<JS
{"step": "bosunPatch", "env": {"BOSUN_BIN": "$BOSUN"}, "args": {"image": "oci:$MINBASE:12", "tags": ["$REG/minbase:jsame"],
 "db": "$W/empty.db", "dbMaxAge": "0", "workDir": "$W/jpatch"}}
JS
    groovy jrun.groovy "$REPO/jenkins/vars" jp1.json 2>jp1.log | tail -1 >jp1.out
    [ "$(jq_ jp1.out 'd["error"]')" = None ] && [ "$(jq_ jp1.out 'd["result"]["patched"]')" = false ] \
        && [ "$(jq_ jp1.out 'd["result"]["patchedDigest"]')" = "$SRCDIG" ] \
        && [ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/minbase:jsame" 2>&1)" = "$SRCDIG" ] \
        && ok "bosunPatch: an empty database: patched=false, the source's digest, pushed unchanged" || fail "bosunPatch nothing to patch" "$(cat jp1.out)" "$(tail -20 jp1.log)"
    cat >jp2.json <<JS
{"step": "bosunPatch", "env": {"BOSUN_BIN": "$BOSUN"}, "args": {"image": "oci:$MINBASE:12", "tags": ["$REG/minbase:junreachable"],
 "only": ["zlib1g"], "packageMirrors": ["http://127.0.0.1:$DOWN/x", "main=http://127.0.0.1:$DOWN/y"], "workDir": "$W/jpatch2"}}
JS
    groovy jrun.groovy "$REPO/jenkins/vars" jp2.json 2>jp2.log | tail -1 >jp2.out
    jq_ jp2.out 'd["error"]' | grep -q '^bosunPatch: bosun patch failed with exit code 4 (registry or network): .*apt-get update failed (a package archive could not be reached)' \
        && [ "$(http_code minbase junreachable)" = 404 ] \
        && ok "bosunPatch: unreachable archives: error() with exit 4 and bosun's reason, nothing pushed" || fail "bosunPatch unreachable" "$(cat jp2.out)" "$(tail -20 jp2.log)"
fi
finish
