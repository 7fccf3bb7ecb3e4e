// bosunBaseWatch(images: 'base-images.json', shard: '1/2', db: '/var/lib/bosun/vuln.db',
//                rescan: true, registryCredentialsId: 'registry', rebuild: true)
//
// Runs `bosun base watch` over a fleet file, publishes the JUnit report (one
// test per image; a stale base is a failed test naming the base and its new
// digest), archives watch.json and summary.md, and with rebuild: true
// triggers `build job:` for the pipeline of every image whose base moved.
// Those jobs rebuild on the new base, scan, sign, push and redeploy.
//
// The fleet file lists images with the Jenkins job to rebuild each:
//   {"images": [{"image": "registry.example.com/team/app:main", "pipeline": "team/app/main"}]}
// A stale base marks the build UNSTABLE only with failIfStale: true; an image
// that could not be checked (exit 3 or 4) fails the build after the reports
// are published. Returns [exitCode, staleImages, stalePipelines, reportDir].
def call(Map args = [:]) {
    Map cfg = [
        images               : 'base-images.json', // fleet file (list, JSON, YAML, kubectl pods JSON)
        shard                : '',                 // "I/N" for parallel branches
        jobs                 : 8,                  // concurrent checks
        reportDir            : 'bosun-base-reports',
        db                   : '',                 // vulnerability database (with rescan)
        rescan               : false,
        stateFile            : '',                 // rescan state (default reportDir/base-watch-state.json)
        registryCredentialsId: '',                 // "Username with password" credential
        rebuild              : true,               // build job: for each stale image's pipeline
        waitForRebuild       : false,
        failIfStale          : false,
        bosun                : env.BOSUN_BIN ?: 'bosun',
    ] + args
    if (cfg.rescan && !cfg.db) {
        error('bosunBaseWatch: rescan needs db')
    }
    List envs = [
        "BOSUN_CMD=${cfg.bosun}",
        "BW_IMAGES=${cfg.images}",
        "BW_SHARD=${cfg.shard}",
        "BW_JOBS=${cfg.jobs}",
        "BW_REPORT_DIR=${cfg.reportDir}",
        "BW_DB=${cfg.db}",
        "BW_RESCAN=${cfg.rescan ? '1' : ''}",
        "BW_STATE=${cfg.stateFile}",
        "BW_FAIL_IF_STALE=${cfg.failIfStale ? '1' : ''}",
    ]
    // Single-quoted script: the shell expands the values, Groovy never does.
    String script = '''
        set -u
        set -- base watch --images "$BW_IMAGES" --jobs "$BW_JOBS" --report-dir "$BW_REPORT_DIR"
        [ -n "$BW_SHARD" ] && set -- "$@" --shard "$BW_SHARD"
        [ -n "$BW_RESCAN" ] && set -- "$@" --rescan --db "$BW_DB"
        [ -n "$BW_STATE" ] && set -- "$@" --state "$BW_STATE"
        [ -n "$BW_FAIL_IF_STALE" ] && set -- "$@" --fail-if-stale
        "$BOSUN_CMD" "$@"
    '''
    int rc = 0
    withEnv(envs) {
        if (cfg.registryCredentialsId) {
            withCredentials([usernamePassword(credentialsId: cfg.registryCredentialsId,
                                              usernameVariable: 'BOSUN_USERNAME',
                                              passwordVariable: 'BOSUN_PASSWORD')]) {
                rc = sh(label: 'bosun base watch', returnStatus: true, script: script)
            }
        } else {
            rc = sh(label: 'bosun base watch', returnStatus: true, script: script)
        }
    }
    junit(allowEmptyResults: true, testResults: "${cfg.reportDir}/junit.xml")
    archiveArtifacts(allowEmptyArchive: true,
                     artifacts: "${cfg.reportDir}/watch.json,${cfg.reportDir}/summary.md")

    // bosun writes its outputs as a java.util.Properties file under Jenkins.
    Map out = [:]
    String propsPath = "${cfg.reportDir}/bosun-base.properties"
    if (fileExists(propsPath)) {
        readFile(propsPath).split('\n').each { String line ->
            int i = line.indexOf('=')
            if (!line.startsWith('#') && i > 0) {
                out[line.substring(0, i)] = line.substring(i + 1).replaceAll('\\\\(.)', '$1')
            }
        }
    }
    List staleImages = out.baseStaleImages ? out.baseStaleImages.split(',') as List : []
    List stalePipelines = out.baseStalePipelines ? out.baseStalePipelines.split(',') as List : []

    if (cfg.rebuild) {
        stalePipelines.each { String job ->
            echo "bosunBaseWatch: base image updated, rebuilding ${job}"
            build(job: job, wait: cfg.waitForRebuild, propagate: cfg.waitForRebuild)
        }
    }
    if (rc == 1) {
        unstable("bosunBaseWatch: ${staleImages.size()} image(s) built on an outdated base")
    } else if (rc != 0) {
        error("bosunBaseWatch: bosun base watch exited ${rc} (3: bad input, 4: registry unreachable); see the reports")
    }
    return [exitCode: rc, staleImages: staleImages, stalePipelines: stalePipelines, reportDir: cfg.reportDir]
}
