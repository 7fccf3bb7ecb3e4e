/* Private to builder/dockerfile*.c (dockerfile.c the parser, dockerfile_lex.c
 * the lexer): the NULL-terminated string vector push both use. */
#ifndef BOSUN_BUILDER_DOCKERFILE_INT_H
#define BOSUN_BUILDER_DOCKERFILE_INT_H

#include <stdlib.h>

#include "core/err.h"

/* Append s (owned; NULL means it failed to allocate) to *v, keeping it
   NULL-terminated. */
static inline int strv_push(char ***v, size_t *n, char *s, struct err *e)
{
	char **nv;

	if (!s)
		return err_oom(e);
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return err_oom(e);
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

#endif
