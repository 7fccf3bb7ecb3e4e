// bosunInstall(version: '1.0.0', url: 'https://.../bosun-linux-amd64', sha256: '...')
//
// Downloads a pinned bosun release binary (or copies it from a file on the
// agent), checks its SHA-256 and sets env.BOSUN_BIN for bosunShip and
// bosunVerify. Returns the path of the binary.
def call(Map args = [:]) {
    Map cfg = [
        version   : null,   // required: release version (tool cache directory name)
        url       : null,   // download URL of the static binary
        file      : null,   // or a binary already on the agent (copied, then checked)
        sha256    : null,   // required: expected SHA-256 (hex)
        installDir: null,   // default: $WORKSPACE_TMP/bosun (or $WORKSPACE/.bosun)
    ] + args
    if (!cfg.version || !cfg.sha256) {
        error('bosunInstall: version and sha256 are required')
    }
    if (!cfg.url && !cfg.file) {
        error('bosunInstall: give url or file')
    }
    String root = cfg.installDir ?: (env.WORKSPACE_TMP ?: "${env.WORKSPACE}/.bosun")
    String dir = "${root}/bosun/${cfg.version}"
    withEnv(["BOSUN_INSTALL_DIR=${dir}", "BOSUN_URL=${cfg.url ?: ''}", "BOSUN_FILE=${cfg.file ?: ''}",
             "BOSUN_SHA256=${cfg.sha256}", "BOSUN_VERSION=${cfg.version}"]) {
        // Single-quoted: the shell expands the values, Groovy never does.
        sh(label: "install bosun ${cfg.version}", script: '''
            set -eu
            mkdir -p "$BOSUN_INSTALL_DIR"
            tmp="$BOSUN_INSTALL_DIR/.bosun.download.$$"
            if [ -n "$BOSUN_FILE" ]; then
              cp "$BOSUN_FILE" "$tmp"
            else
              curl -fsSL --retry 5 -o "$tmp" "$BOSUN_URL"
            fi
            if ! echo "$BOSUN_SHA256  $tmp" | sha256sum -c --status; then
              echo "bosunInstall: SHA-256 mismatch for bosun $BOSUN_VERSION: want $BOSUN_SHA256, got $(sha256sum "$tmp" | cut -d' ' -f1)" >&2
              rm -f "$tmp"
              exit 3
            fi
            chmod 0755 "$tmp"
            mv -f "$tmp" "$BOSUN_INSTALL_DIR/bosun"
            "$BOSUN_INSTALL_DIR/bosun" version
        ''')
    }
    env.BOSUN_BIN = "${dir}/bosun"
    return env.BOSUN_BIN
}
