#!/usr/bin/env bash
# Real-world image "gojava" (tests/realworld/images/gojava/Dockerfile): built by
# bosun and by buildah, file trees compared; inventory of bosun scan against
# Trivy and dpkg-query. See tests/realworld/lib.sh.
set -u
. "$(dirname "$0")/lib.sh"
rw_setup
rw_image gojava "$RW_DIR/images/gojava"
TAB=$'\t'
rw_tree_has gojava "skopeo" "^usr/bin/skopeo${TAB}file${TAB}0755${TAB}"
rw_tree_has gojava "a jar of a lib*-java package" "^usr/share/java/commons-lang3\.jar${TAB}file"
rw_tree_has gojava "the system user docker-registry's postinst made" "^var/lib/docker-registry${TAB}dir${TAB}[0-7]+${TAB}[1-9]"
finish
