// bosunVerify(image: "registry.example.com/team/app@${digest}", publicKeyCredentialsId: 'cosign-pub')
//
// The deploy gate: verifies the image's signature (and the listed
// attestations) with a public key. A signature that does not verify
// (exit 1) or any other failure stops the build with error().
def call(Map args = [:]) {
    Map cfg = [
        image                 : null,   // required, best by digest
        publicKeyFile         : '',     // a public key file in the workspace
        publicKeyCredentialsId: '',     // or a "Secret file" credential holding it
        attestations          : [],     // e.g. ['slsaprovenance', 'vuln']
        registryCredentialsId : '',
        extraArgs             : '',
    ] + args
    if (!cfg.image) {
        error('bosunVerify: image is required')
    }
    if (!cfg.publicKeyFile && !cfg.publicKeyCredentialsId) {
        error('bosunVerify: give publicKeyFile or publicKeyCredentialsId')
    }
    List creds = []
    if (cfg.publicKeyCredentialsId) {
        creds << file(credentialsId: cfg.publicKeyCredentialsId, variable: 'BOSUN_PUBKEY_SECRET')
    }
    if (cfg.registryCredentialsId) {
        creds << usernamePassword(credentialsId: cfg.registryCredentialsId,
                                  usernameVariable: 'BOSUN_USERNAME', passwordVariable: 'BOSUN_PASSWORD')
    }
    int rc = 0
    withEnv(["BOSUN_IMAGE=${cfg.image}", "BOSUN_PUBKEY_FILE=${cfg.publicKeyFile}",
             "BOSUN_ATTESTATIONS=${(cfg.attestations as List).join(' ')}", "BOSUN_EXTRA_ARGS=${cfg.extraArgs}"]) {
        withCredentials(creds) {
            rc = sh(label: "bosun verify ${cfg.image}", returnStatus: true, script: '''
                set -u
                args=(verify --key "${BOSUN_PUBKEY_SECRET:-$BOSUN_PUBKEY_FILE}")
                for t in $BOSUN_ATTESTATIONS; do args+=(--attestation "$t"); done
                # shellcheck disable=SC2206
                args+=($BOSUN_EXTRA_ARGS)
                exec "${BOSUN_BIN:-bosun}" "${args[@]}" "$BOSUN_IMAGE"
            '''.stripIndent())
        }
    }
    if (rc == 1) {
        error("bosunVerify: ${cfg.image} is not signed by the expected key: not deploying")
    } else if (rc != 0) {
        error("bosunVerify: bosun verify failed with exit code ${rc}")
    }
    return true
}
