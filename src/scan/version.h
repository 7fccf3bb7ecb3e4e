/* Version comparison per ecosystem: dpkg, apk, rpm, SemVer (npm, crates.io,
 * Go), PEP 440 (PyPI) and Maven. Each comparator returns <0, 0 or >0 and
 * never fails: versions a scheme cannot parse still get a total order
 * (the scheme's own fallback where it has one, else byte order). */
#ifndef BOSUN_SCAN_VERSION_H
#define BOSUN_SCAN_VERSION_H

#include <stdbool.h>

enum vscheme { VS_DPKG, VS_APK, VS_RPM, VS_SEMVER, VS_PEP440, VS_GO, VS_MAVEN, VS_GENERIC };

typedef int (*vercmp_fn)(const char *a, const char *b);

int vercmp_dpkg(const char *a, const char *b);
int vercmp_apk(const char *a, const char *b);
/* apk's "~" operator: a matches b when b is a prefix of a at token level. */
bool vermatch_apk_fuzzy(const char *a, const char *b);
bool verok_apk(const char *v);
int vercmp_rpm(const char *a, const char *b); /* [epoch:]version[-release] */
int rpmvercmp(const char *a, const char *b);  /* one segment string, as rpmvercmp(3) */
int vercmp_semver(const char *a, const char *b); /* node-semver loose: v, =, spaces */
int vercmp_pep440(const char *a, const char *b);
int vercmp_go(const char *a, const char *b); /* "go1.21rc2", "v1.2.3", "1.19.8" */
int vercmp_maven(const char *a, const char *b);
int vercmp_generic(const char *a, const char *b);

/* The scheme of an OSV ecosystem name ("Debian:12" -> VS_DPKG, "Go" -> VS_GO). */
enum vscheme vscheme_for_ecosystem(const char *ecosystem);
vercmp_fn vercmp_for(enum vscheme s);

#endif
