/* bosun's version, compiled into one object (core/version.c) so that only
 * that object is rebuilt when `git describe` changes: `bosun version`, the
 * User-Agent and the reports never carry a stale version. */
#ifndef BOSUN_CORE_VERSION_H
#define BOSUN_CORE_VERSION_H

extern const char bosun_version[];

#endif
