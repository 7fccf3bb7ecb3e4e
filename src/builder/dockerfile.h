/* Dockerfile parser: parser directives (# escape=, # syntax=, # check=),
 * comments, line continuations, JSON and shell forms, --flags, heredocs, and
 * the checks Docker's parser makes (so a bad file fails before any pull); and
 * the shell-word lexer that expands $VAR, ${VAR}, ${VAR:-x}, ${VAR:+x},
 * ${VAR?x}, ${VAR:?x} with quotes and escapes as Docker does. Errors are
 * ERR_INPUT and start with "FILE:LINE:COL: ". */
#ifndef BOSUN_BUILD_DOCKERFILE_H
#define BOSUN_BUILD_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"

#define DF_MAX_SIZE (4u << 20) /* a Dockerfile bigger than this is refused */
#define DF_MAX_NESTING 64      /* ${A:-${B:-...}} deeper than this is refused */

struct df_heredoc {
	char *name;    /* the delimiter word */
	char *content; /* body with a trailing newline */
	bool expand;   /* unquoted delimiter: variables are expanded */
	bool chomp;    /* <<- : leading tabs stripped (content holds the stripped lines) */
	int fd;	       /* N of N<<EOF, 0 when not given */
};

struct df_instr {
	char *cmd;	/* lower case: "from", "run", ... */
	char *original; /* the instruction as written, continuations joined */
	int line, col;	/* where the instruction word starts */
	char **flags;	/* "--from=build" without the dashes, quotes removed: "from=build" */
	size_t n_flags;
	bool json;   /* JSON (exec) form */
	char **args; /* JSON form: the array elements */
	size_t n_args;
	char *rest; /* text after the flags (shell form, unexpanded) */
	int rest_col;
	struct df_heredoc *heredocs;
	size_t n_heredocs;
};

struct dockerfile {
	char *path;   /* as given, for messages */
	char escape;  /* '\\' or '`' */
	char *syntax; /* # syntax= value or NULL (recorded, not acted on) */
	struct df_instr *ins;
	size_t n;
};

/* Parse text (len bytes) named path in messages. */
int df_parse(struct dockerfile *df, const char *path, const char *text, size_t len, struct err *e);
int df_parse_file(struct dockerfile *df, const char *path, struct err *e);
/* The words each instruction will expand when it runs (ENV, LABEL, ARG,
 * FROM, COPY/ADD sources and expanded heredocs, WORKDIR, USER, EXPOSE,
 * VOLUME, STOPSIGNAL), lexed with every variable set: what fails here
 * (quotes, ${...} syntax, nesting) would fail whatever the values, so a
 * build calls this before pulling anything. Docker's parser accepts such
 * files and its build fails later; errors are "FILE:LINE:COL: cmd: ...". */
int df_check_expansions(const struct dockerfile *df, struct err *e);
void df_free(struct dockerfile *df);
void df_instr_free(struct df_instr *in);

/* The value of flag name ("from" for --from=x) of an instruction, or NULL.
 * A flag given without "=value" yields "". */
const char *df_flag(const struct df_instr *in, const char *name);

/* Variable lookup: returns the value or NULL when unset. */
typedef const char *(*df_lookup_fn)(void *ctx, const char *name);

/* Lex s as Docker's shell-word processor does: quotes ('...' literal,
 * "..." with expansion), the escape character, and variable expansion via
 * lookup (may be NULL: no expansion). split=true: words split on unquoted
 * whitespace into *words (*n of them); split=false: one word, whitespace kept.
 * Errors (bad substitution, unterminated quote) are ERR_INPUT without a
 * location; callers prefix it. */
int df_lex(const char *s, char esc, df_lookup_fn lookup, void *ctx, bool split, char ***words,
	   size_t *n, struct err *e);
/* Docker's ProcessWords (EXPOSE): as df_lex with split, but the result of an
 * unquoted expansion is split on whitespace too and empty words are dropped. */
int df_lex_words(const char *s, char esc, df_lookup_fn lookup, void *ctx, char ***words, size_t *n,
		 struct err *e);
/* The words of s as Docker's parser sees them before any processing: split
 * on whitespace outside quotes, quotes and escapes kept (an escape at the
 * very end dropped). */
int df_words_raw(const char *s, char esc, char ***words, size_t *n, struct err *e);
/* Expand variables only (no quote removal), as in heredoc bodies. */
char *df_expand_plain(const char *s, char esc, df_lookup_fn lookup, void *ctx, struct err *e);
void df_strv_free(char **v, size_t n);

/* Parse KEY=VALUE pairs (ENV, LABEL, ARG style) or the legacy "KEY VALUE"
 * form (legacy=true allowed for ENV/LABEL) into keys/vals (n pairs). ARG
 * allows KEY without value: val NULL. */
int df_kv(const char *s, char esc, df_lookup_fn lookup, void *ctx, bool legacy, bool allow_novalue,
	  char ***keys, char ***vals, size_t *n, struct err *e);

#endif
