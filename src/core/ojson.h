/* Typed access to cJSON objects with errors that name the field. JSON null counts as absent (Docker
 * writes "Entrypoint": null). */
#ifndef BOSUN_CORE_OJSON_H
#define BOSUN_CORE_OJSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/* Cleanup attribute for a cJSON tree (NULL = none). */
static inline void cjson_deletep(cJSON **j)
{
	cJSON_Delete(*j);
	*j = NULL;
}
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

/* Parse len bytes (no NUL needed); ERR_INPUT when over cap, not JSON, or not an object. */
cJSON *oj_parse_object(const char *json, size_t len, size_t cap, const char *what, struct err *e);
/* Member or NULL when absent or null. */
const cJSON *oj_get(const cJSON *o, const char *key);
/* Optional string member duplicated into *out (NULL when absent). */
int oj_str(const cJSON *o, const char *key, bool required, char **out, struct err *e);
/* Non-negative integer member (JSON number without fraction, < 2^53). */
int oj_int64(const cJSON *o, const char *key, bool required, int64_t *out, struct err *e);
/* Array of strings into a NULL-terminated malloc'd vector (NULL when absent). */
int oj_strv(const cJSON *o, const char *key, char ***out, size_t *n, struct err *e);
/* Object of string values, kept as compact JSON text (NULL when absent). */
int oj_annotations(const cJSON *o, const char *key, char **out, struct err *e);
/* Compact text of any JSON object member (NULL when absent). */
int oj_object_text(const cJSON *o, const char *key, char **out, struct err *e);
/* Attach parsed compact JSON text under key (no-op when text is NULL). */
int oj_add_raw_object(cJSON *o, const char *key, const char *text, struct err *e);
void oj_strv_free(char **v);
/* cJSON_PrintUnformatted with OOM reported. */
char *oj_print(const cJSON *j, struct err *e);
/* The text of j (indented when pretty) written atomically to path, mode
 * 0644 (fs_write_atomic); j may be NULL: out of memory. */
int oj_write_file(const char *path, const cJSON *j, bool pretty, struct err *e);
/* The text of j (indented when pretty, compact else) appended to out (j may
 * be NULL: out of memory). */
struct buf;
int oj_print_buf(const cJSON *j, bool pretty, struct buf *out, struct err *e);
/* s as a JSON string literal (escaped as cJSON escapes) appended to out. */
int oj_str_buf(struct buf *out, const char *s, struct err *e);

#endif
