// bosunShip(repository: 'registry.example.com/team/app', tags: ['1.2.3', 'latest'],
//           keyCredentialsId: 'cosign-key', keyPasswordCredentialsId: 'cosign-password',
//           registryCredentialsId: 'registry', db: '/var/lib/bosun/vuln.db')
//
// Runs `bosun ship` (build, scan, gate, push, sign, attest). Secrets come from
// Jenkins credentials through withCredentials and reach bosun as environment
// variables of a single-quoted sh script, so they never pass through a
// Groovy string. JUnit and the reports are published whatever happens.
// patch: true ships a patched image when the gate fails only on findings a
// distribution package fixes (bosun ship --patch, with packageMirrors and
// toolImage as for bosunPatch).
// Exit code 1 (the image broke the policy) marks the build UNSTABLE; any
// other failure (bad input, registry, internal) fails it with error().
// Returns the outputs: imageRef, imageDigest, findingsCritical, findingsHigh,
// findingsMedium, findingsLow, policyPassed, signed, reportDir, exitCode.
def call(Map args = [:]) {
    Map cfg = [
        repository              : null,    // required
        tags                    : [env.BUILD_NUMBER ?: 'latest'],
        dockerfile              : 'Dockerfile',
        context                 : '.',
        buildArgs               : [:],
        target                  : '',
        platform                : 'linux/amd64',
        failOn                  : 'high',
        ignoreUnfixed           : false,
        ignoreFile              : '',
        db                      : '',      // vulnerability database file on the agent
        cacheRepo               : '',
        keyCredentialsId        : '',      // "Secret file" credential: the cosign private key
        keyPasswordCredentialsId: '',      // "Secret text" credential: its password
        registryCredentialsId   : '',      // "Username with password" credential
        attest                  : true,
        pushOnFail              : false,
        patch                   : false,   // bosun ship --patch
        packageMirrors          : [],      // with patch: '[security=|main=]URL' each
        toolImage               : '',      // with patch: the tooling image for distroless images
        reportDir               : 'bosun-reports',
        publish                 : true,    // junit + archiveArtifacts
        unstableOnPolicy        : true,    // false: a policy failure is an error too
        extraArgs               : '',
    ] + args
    if (!cfg.repository) {
        error('bosunShip: repository is required')
    }
    List envs = [
        "BOSUN_REPOSITORY=${cfg.repository}",
        "BOSUN_TAGS=${(cfg.tags as List).join(' ')}",
        "BOSUN_DOCKERFILE=${cfg.dockerfile}",
        "BOSUN_CONTEXT=${cfg.context}",
        "BOSUN_TARGET=${cfg.target}",
        "BOSUN_PLATFORM=${cfg.platform}",
        "BOSUN_FAIL_ON=${cfg.failOn}",
        "BOSUN_IGNORE_UNFIXED=${cfg.ignoreUnfixed}",
        "BOSUN_IGNORE_FILE=${cfg.ignoreFile}",
        "BOSUN_DB_FILE=${cfg.db}",
        "BOSUN_CACHE_REPO=${cfg.cacheRepo}",
        "BOSUN_ATTEST=${cfg.attest}",
        "BOSUN_PUSH_ON_FAIL=${cfg.pushOnFail}",
        "BOSUN_PATCH=${cfg.patch}",
        "BOSUN_PACKAGE_MIRRORS=${(cfg.packageMirrors as List).join(' ')}",
        "BOSUN_TOOL_IMAGE=${cfg.toolImage}",
        "BOSUN_REPORT_DIR=${cfg.reportDir}",
        "BOSUN_EXTRA_ARGS=${cfg.extraArgs}",
    ]
    (cfg.buildArgs as Map).each { k, v -> envs << "BOSUN_BUILD_ARG_${k}=${v}" }
    List creds = []
    if (cfg.keyCredentialsId) {
        creds << file(credentialsId: cfg.keyCredentialsId, variable: 'BOSUN_KEY_FILE')
    }
    if (cfg.keyPasswordCredentialsId) {
        creds << string(credentialsId: cfg.keyPasswordCredentialsId, variable: 'BOSUN_KEY_PASSWORD')
    }
    if (cfg.registryCredentialsId) {
        creds << usernamePassword(credentialsId: cfg.registryCredentialsId,
                                  usernameVariable: 'BOSUN_USERNAME', passwordVariable: 'BOSUN_PASSWORD')
    }
    int rc = 0
    try {
        withEnv(envs) {
            withCredentials(creds) {
                rc = sh(label: "bosun ship ${cfg.repository}", returnStatus: true, script: '''
                    set -u
                    args=(ship -f "$BOSUN_DOCKERFILE" --platform "$BOSUN_PLATFORM" --fail-on "$BOSUN_FAIL_ON"
                          --report-dir "$BOSUN_REPORT_DIR")
                    for tag in $BOSUN_TAGS; do args+=(-t "$BOSUN_REPOSITORY:$tag"); done
                    for v in $(compgen -e | grep '^BOSUN_BUILD_ARG_' || true); do
                      args+=(--build-arg "${v#BOSUN_BUILD_ARG_}=${!v}")
                    done
                    [ -n "$BOSUN_TARGET" ] && args+=(--target "$BOSUN_TARGET")
                    [ "$BOSUN_IGNORE_UNFIXED" = true ] && args+=(--ignore-unfixed)
                    [ -n "$BOSUN_IGNORE_FILE" ] && args+=(--ignore-file "$BOSUN_IGNORE_FILE")
                    [ -n "$BOSUN_DB_FILE" ] && args+=(--db "$BOSUN_DB_FILE")
                    [ -n "$BOSUN_CACHE_REPO" ] && args+=(--cache-repo "$BOSUN_CACHE_REPO")
                    if [ -n "${BOSUN_KEY_FILE:-}" ]; then
                      args+=(--key "$BOSUN_KEY_FILE")
                      [ "$BOSUN_ATTEST" = true ] && args+=(--attest)
                    fi
                    [ "$BOSUN_PUSH_ON_FAIL" = true ] && args+=(--push-on-fail)
                    if [ "$BOSUN_PATCH" = true ]; then
                      args+=(--patch)
                      for m in $BOSUN_PACKAGE_MIRRORS; do args+=(--package-mirror "$m"); done
                      [ -n "$BOSUN_TOOL_IMAGE" ] && args+=(--tool-image "$BOSUN_TOOL_IMAGE")
                    fi
                    # shellcheck disable=SC2206
                    args+=($BOSUN_EXTRA_ARGS)
                    exec "${BOSUN_BIN:-bosun}" "${args[@]}" "$BOSUN_CONTEXT"
                '''.stripIndent())
            }
        }
    } finally {
        if (cfg.publish) {
            junit(testResults: "${cfg.reportDir}/junit.xml", allowEmptyResults: true, skipPublishingChecks: true)
            archiveArtifacts(artifacts: "${cfg.reportDir}/**", allowEmptyArchive: true, fingerprint: false)
        }
    }
    Map out = [exitCode: rc]
    if (fileExists("${cfg.reportDir}/bosun.properties")) {
        Properties p = new Properties()
        p.load(new StringReader(readFile("${cfg.reportDir}/bosun.properties")))
        p.stringPropertyNames().each { k -> out[k] = p.getProperty(k) }
    }
    if (rc == 1 && cfg.unstableOnPolicy) {
        unstable("bosun: ${cfg.repository} failed the policy gate (fail on ${cfg.failOn}); not pushed or signed, see ${cfg.reportDir}/report.html")
    } else if (rc != 0) {
        error("bosun ship failed with exit code ${rc} (${rc == 1 ? 'policy' : rc == 2 ? 'usage' : rc == 3 ? 'bad input' : rc == 4 ? 'registry or network' : 'internal error'})")
    }
    return out
}
