#include "core/ojson.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/util.h"

cJSON *oj_parse_object(const char *json, size_t len, size_t cap, const char *what, struct err *e)
{
	if (len > cap) {
		err_set(e, ERR_INPUT, "%s is %zu bytes, more than the %zu byte limit", what, len,
			cap);
		return NULL;
	}
	if (!json || len == 0) {
		err_set(e, ERR_INPUT, "%s is empty", what);
		return NULL;
	}
	cJSON *j = cJSON_ParseWithLength(json, len);
	if (!j) {
		err_json(e, json, len, "%s is not valid JSON", what);
		return NULL;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		err_set(e, ERR_INPUT, "%s is not a JSON object", what);
		return NULL;
	}
	return j;
}

const cJSON *oj_get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

int oj_str(const cJSON *o, const char *key, bool required, char **out, struct err *e)
{
	*out = NULL;
	const cJSON *v = oj_get(o, key);
	if (!v)
		return required ? err_set(e, ERR_INPUT, "missing \"%s\"", key) : 0;
	if (!cJSON_IsString(v))
		return err_set(e, ERR_INPUT, "\"%s\" must be a string", key);
	*out = xstrdup_e(v->valuestring, e);
	return *out ? 0 : -1;
}

int oj_int64(const cJSON *o, const char *key, bool required, int64_t *out, struct err *e)
{
	*out = 0;
	const cJSON *v = oj_get(o, key);
	if (!v)
		return required ? err_set(e, ERR_INPUT, "missing \"%s\"", key) : 0;
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	/* The range check comes first so the cast below is defined. */
	if (!cJSON_IsNumber(v) || !(d >= 0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
		return err_set(e, ERR_INPUT, "\"%s\" must be a non-negative integer", key);
	*out = (int64_t)d;
	return 0;
}

void oj_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int oj_strv(const cJSON *o, const char *key, char ***out, size_t *n, struct err *e)
{
	*out = NULL;
	if (n)
		*n = 0;
	const cJSON *v = oj_get(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsArray(v))
		return err_set(e, ERR_INPUT, "\"%s\" must be an array of strings", key);
	size_t cnt = (size_t)cJSON_GetArraySize(v);
	char **vec = calloc(cnt + 1, sizeof *vec);
	if (!vec)
		return err_oom(e);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, v)
	{
		if (!cJSON_IsString(it)) {
			oj_strv_free(vec);
			return err_set(e, ERR_INPUT, "\"%s\" must be an array of strings", key);
		}
		if (!(vec[i++] = xstrdup_e(it->valuestring, e))) {
			oj_strv_free(vec);
			return -1;
		}
	}
	*out = vec;
	if (n)
		*n = cnt;
	return 0;
}

char *oj_print(const cJSON *j, struct err *e)
{
	char *s = cJSON_PrintUnformatted(j);
	if (!s)
		err_oom(e);
	return s;
}

int oj_write_file(const char *path, const cJSON *j, bool pretty, struct err *e)
{
	char *s = j ? (pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j)) : NULL;
	int r;

	if (!s)
		return err_oom(e);
	r = fs_write_atomic(path, s, strlen(s), 0644, e);
	free(s);
	return r;
}

int oj_object_text(const cJSON *o, const char *key, char **out, struct err *e)
{
	*out = NULL;
	const cJSON *v = oj_get(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return err_set(e, ERR_INPUT, "\"%s\" must be an object", key);
	*out = oj_print(v, e);
	return *out ? 0 : -1;
}

int oj_annotations(const cJSON *o, const char *key, char **out, struct err *e)
{
	*out = NULL;
	const cJSON *v = oj_get(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return err_set(e, ERR_INPUT, "\"%s\" must be an object of strings", key);
	const cJSON *it;
	cJSON_ArrayForEach(it, v)
	{
		if (!cJSON_IsString(it))
			return err_set(e, ERR_INPUT, "\"%s\": value of \"%.100s\" must be a string",
				       key, it->string ? it->string : "");
	}
	*out = oj_print(v, e);
	return *out ? 0 : -1;
}

int oj_add_raw_object(cJSON *o, const char *key, const char *text, struct err *e)
{
	if (!text)
		return 0;
	cJSON *v = cJSON_Parse(text);
	if (!v)
		return err_set(e, ERR_INTERNAL, "stored \"%s\" is not valid JSON", key);
	if (!cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		return err_oom(e);
	}
	return 0;
}

int oj_print_buf(const cJSON *j, bool pretty, struct buf *out, struct err *e)
{
	char *t = !j ? NULL : pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
	int r;

	if (!t)
		return err_oom(e);
	r = buf_adds(out, t, e);
	free(t);
	return r;
}

int oj_str_buf(struct buf *out, const char *s, struct err *e)
{
	cJSON *j = cJSON_CreateString(s);
	int r = oj_print_buf(j, false, out, e);

	cJSON_Delete(j);
	return r;
}
