/* CI integration: Azure Pipelines logging commands, a Jenkins properties
 * file and GitHub Actions output files. Functions build text into a buf or
 * write files; only the command prints. */
#ifndef BOSUN_REPORT_CI_H
#define BOSUN_REPORT_CI_H

#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

/* One named output (imageRef, imageDigest, ...). */
struct ci_output {
	const char *name;
	const char *value;
};

/* Which CI system we run under, from the environment. */
struct ci_env {
	bool azure;                 /* TF_BUILD=True (case-insensitive, as the agent sets it) */
	bool jenkins;               /* JENKINS_URL set and not empty */
	const char *github_output;  /* $GITHUB_OUTPUT or NULL */
	const char *github_summary; /* $GITHUB_STEP_SUMMARY or NULL */
};
void ci_detect(struct ci_env *env);

/* Azure logging-command escaping, as the agent unescapes it: property
 * values escape '%' (as %AZP25), CR, LF, ']' and ';'; message data escapes
 * '%', CR and LF (the agent ends the command at the first ']', so the
 * message may contain ']' and ';'). */
int ci_azure_escape(const char *s, bool property, struct buf *out, struct err *e);

/* Each appends one line ending in '\n' to out. */
/* ##vso[task.setvariable variable=NAME;isOutput=true]VALUE. NAME must be
 * letters, digits, '.', '_' or '-' (ERR_INTERNAL otherwise: names are ours). */
int ci_azure_setvar(struct buf *out, const char *name, const char *value, bool is_output,
		    struct err *e);
/* ##vso[task.logissue type=error|warning]MESSAGE */
int ci_azure_logissue(struct buf *out, const char *type, const char *msg, struct err *e);
/* ##vso[task.uploadsummary]PATH (absolute path) */
int ci_azure_uploadsummary(struct buf *out, const char *path, struct err *e);
/* ##vso[results.publish type=JUnit;mergeResults=true;runTitle=TITLE]PATH */
int ci_azure_publish_junit(struct buf *out, const char *path, const char *title, struct err *e);
/* ##[group]TITLE / ##[endgroup] (line breaks in TITLE become spaces). */
int ci_azure_group(struct buf *out, const char *title, struct err *e);
int ci_azure_endgroup(struct buf *out, struct err *e);

/* java.util.Properties escaping (what Properties.store writes): '\\', '=',
 * ':', '#', '!', TAB/LF/CR/FF as \t \n \r \f, other control and non-ASCII
 * characters as \uXXXX (UTF-16, surrogate pairs; invalid UTF-8 becomes
 * U+FFFD), spaces escaped everywhere in keys and leading in values. */
int ci_java_prop_escape(const char *s, bool key, struct buf *out, struct err *e);
/* A properties document: a comment line, then one KEY=VALUE per output. */
int ci_jenkins_properties(const struct ci_output *o, size_t n, struct buf *out, struct err *e);

/* GitHub Actions output file lines: NAME=VALUE, or for values with a line
 * break the heredoc form NAME<<DELIM / VALUE / DELIM with a random DELIM
 * that does not occur in the value. */
int ci_github_outputs(const struct ci_output *o, size_t n, struct buf *out, struct err *e);
/* Append to a file (created 0644 if missing): the runner owns these files
 * and other steps append to them too, so no atomic replace. */
int ci_append_file(const char *path, const char *data, size_t n, struct err *e);

#endif
