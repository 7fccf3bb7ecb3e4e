// bosunPatch(image: 'registry.example.com/team/app:1.4.2',
//            tags: ['registry.example.com/team/app:1.4.2-patched'],
//            db: '/var/lib/bosun/vuln.db', registryCredentialsId: 'registry')
//
// Runs `bosun patch`: the image's vulnerable OS packages upgraded in one
// patch layer, without a rebuild (the original layers stay byte-identical;
// nothing to patch writes the image unchanged). What to upgrade: db (scan
// with this database; none of the four: bosun's cached database), report
// (an earlier `bosun scan --format json`), all: true, or only: [packages];
// give one. Registry credentials come from withCredentials and reach bosun
// as environment variables of a single-quoted sh script. Any failure (2
// usage, 3 bad input such as an unsupported image or a failing package
// manager, 4 registry or package archive unreachable, 5 internal) stops the
// build with error(). Returns [patchedDigest, patched, exitCode]: patched
// is 'true' or 'false' as bosun's "patch: N packages upgraded" / "patch:
// nothing to patch" line said ('' when neither came).
def call(Map args = [:]) {
    Map cfg = [
        image                : null,   // required: a registry reference, oci:DIR[:TAG] or docker-archive:FILE
        tags                 : [],     // required: full destination references
        db                   : '',     // vulnerability database file on the agent
        dbMaxAge             : '',     // e.g. '7d'; '0' disables
        report               : '',     // or bosun's JSON scan report of the image
        all                  : false,  // or every package with a newer version
        only                 : [],     // or these packages
        packageMirrors       : [],     // '[security=|main=]URL' each
        toolImage            : '',     // distroless images: the tooling image
        platform             : '',
        registryCredentialsId: '',     // "Username with password" credential
        workDir              : 'bosun-patch',
        extraArgs            : '',
    ] + args
    if (!cfg.image) {
        error('bosunPatch: image is required')
    }
    List tags = (cfg.tags instanceof List ? cfg.tags : [cfg.tags]).findAll { it }
    if (!tags) {
        error('bosunPatch: tags (the destinations) are required')
    }
    List only = (cfg.only instanceof List ? cfg.only : cfg.only.toString().split(/[\s,]+/) as List).findAll { it }
    int modes = (cfg.db ? 1 : 0) + (cfg.report ? 1 : 0) + (cfg.all ? 1 : 0) + (only ? 1 : 0)
    if (modes > 1) {
        error('bosunPatch: give one of db, report, all and only')
    }
    List envs = [
        "BP_IMAGE=${cfg.image}",
        "BP_TAGS=${tags.join(' ')}",
        "BP_DB=${cfg.db}",
        "BP_DB_MAX_AGE=${cfg.dbMaxAge}",
        "BP_REPORT=${cfg.report}",
        "BP_ALL=${cfg.all ? '1' : ''}",
        "BP_ONLY=${only.join(',')}",
        "BP_MIRRORS=${(cfg.packageMirrors as List).join(' ')}",
        "BP_TOOL_IMAGE=${cfg.toolImage}",
        "BP_PLATFORM=${cfg.platform}",
        "BP_OUT=${cfg.workDir}",
        "BP_EXTRA_ARGS=${cfg.extraArgs}",
    ]
    List creds = []
    if (cfg.registryCredentialsId) {
        creds << usernamePassword(credentialsId: cfg.registryCredentialsId,
                                  usernameVariable: 'BOSUN_USERNAME', passwordVariable: 'BOSUN_PASSWORD')
    }
    int rc = 0
    withEnv(envs) {
        withCredentials(creds) {
            rc = sh(label: "bosun patch ${cfg.image}", returnStatus: true, script: '''
                set -u
                args=(patch)
                [ -n "$BP_DB" ] && args+=(--db "$BP_DB")
                [ -n "$BP_DB_MAX_AGE" ] && args+=(--db-max-age "$BP_DB_MAX_AGE")
                [ -n "$BP_REPORT" ] && args+=(--report "$BP_REPORT")
                [ -n "$BP_ALL" ] && args+=(--all)
                [ -n "$BP_ONLY" ] && args+=(--only "$BP_ONLY")
                for m in $BP_MIRRORS; do args+=(--package-mirror "$m"); done
                [ -n "$BP_TOOL_IMAGE" ] && args+=(--tool-image "$BP_TOOL_IMAGE")
                for t in $BP_TAGS; do args+=(-t "$t"); done
                [ -n "$BP_PLATFORM" ] && args+=(--platform "$BP_PLATFORM")
                # shellcheck disable=SC2206
                args+=($BP_EXTRA_ARGS)
                mkdir -p "$BP_OUT" && rm -f "$BP_OUT/digest" "$BP_OUT/patched" "$BP_OUT/why" "$BP_OUT/log"
                # the digest comes on stdout; bosun's narration (stderr) is
                # shown as it comes and kept to tell whether anything changed
                { "${BOSUN_BIN:-bosun}" "${args[@]}" "$BP_IMAGE" 2>&1 >"$BP_OUT/digest" | tee "$BP_OUT/log"; }
                rc=${PIPESTATUS[0]}
                cat "$BP_OUT/digest"
                if grep -qE '^patch: [0-9]+ packages? upgraded' "$BP_OUT/log"; then echo true >"$BP_OUT/patched"
                elif grep -q '^patch: nothing to patch' "$BP_OUT/log"; then echo false >"$BP_OUT/patched"
                else : >"$BP_OUT/patched"; fi
                grep -E '^bosun( patch)?: ' "$BP_OUT/log" | tail -1 | sed -E 's/^bosun( patch)?: //' >"$BP_OUT/why"
                exit "$rc"
            '''.stripIndent())
        }
    }
    String dir = cfg.workDir
    if (rc != 0) {
        String why = fileExists("${dir}/why") ? readFile("${dir}/why").trim() : ''
        String what = rc == 2 ? 'usage' : rc == 3 ? 'bad input' : rc == 4 ? 'registry or network' : 'internal error'
        error("bosunPatch: bosun patch failed with exit code ${rc} (${what})${why ? ': ' + why : ''}")
    }
    String digest = readFile("${dir}/digest").readLines().findAll { it ==~ /sha256:[0-9a-f]{64}/ }.with { it ? it[-1] : '' }
    String patched = readFile("${dir}/patched").trim()
    if (!patched) {
        echo('bosunPatch: bosun said neither "packages upgraded" nor "nothing to patch": whether the image changed is unknown')
    }
    return [patchedDigest: digest, patched: patched, exitCode: rc]
}
