#!/usr/bin/env bash
# Real-world image "python" (tests/realworld/images/python/Dockerfile): built by
# bosun and by buildah, file trees compared; inventory of bosun scan against
# Trivy and dpkg-query. See tests/realworld/lib.sh.
set -u
. "$(dirname "$0")/lib.sh"
rw_setup
rw_image python "$RW_DIR/images/python"
TAB=$'\t'
rw_tree_has python "ca-certificates' non-ASCII name" "^etc/ssl/certs/NetLock_Arany_=Class_Gold=_Főtanúsítvány\.pem${TAB}symlink"
rw_tree_has python "ping's file capability" "^usr/bin/ping${TAB}file${TAB}.*security\.capability=0100000"
rw_tree_has python "the useradd user's home" "^home/app${TAB}dir${TAB}0755${TAB}1001${TAB}1001${TAB}"
rw_tree_has python "a hard link made by RUN" "^data/a${TAB}file${TAB}.*${TAB}data/b\$"
rw_tree_has python "a hard link to a file of an earlier layer" "^usr/local/bin/curl-hard${TAB}file${TAB}.*${TAB}usr/bin/curl\$"
rw_layer_has python "a whiteout of a base directory" "usr/share/.wh.man"
rw_layer_has python "an opaque directory" "etc/apt/apt.conf.d/.wh..wh..opq"
finish
