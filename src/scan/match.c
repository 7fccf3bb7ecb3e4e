#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "scan/match.h"

struct ev {
	int kind; /* 0 introduced, 1 fixed, 2 last_affected, 3 limit */
	const char *v;
};

static vercmp_fn sort_cmp;

/* "0" is below every version. */
static int vc(const char *a, const char *b)
{
	bool za = strcmp(a, "0") == 0, zb = strcmp(b, "0") == 0;

	if (za || zb)
		return za && zb ? 0 : (za ? -1 : 1);
	return sort_cmp(a, b);
}

static int ev_cmp(const void *x, const void *y)
{
	const struct ev *a = x, *b = y;
	int r = vc(a->v, b->v);

	return r ? r : a->kind - b->kind;
}

static bool range_affected(const cJSON *range, const char *ver, vercmp_fn cmp, char *fixed, size_t cap)
{
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(range, "events"), *it;
	static const char *const kinds[] = { "introduced", "fixed", "last_affected", "limit" };
	struct ev *ev;
	size_t n = 0, max = (size_t)cJSON_GetArraySize(events);
	bool affected = false, limited = false, has_limit = false;

	if (!max)
		return false;
	ev = calloc(max, sizeof(*ev));
	if (!ev)
		return false;
	cJSON_ArrayForEach(it, events)
	{
		for (int k = 0; k < 4; k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, kinds[k]);

			if (cJSON_IsString(v)) {
				ev[n].kind = k, ev[n].v = v->valuestring;
				n++;
				break;
			}
		}
	}
	sort_cmp = cmp;
	qsort(ev, n, sizeof(*ev), ev_cmp);
	if (fixed && cap)
		fixed[0] = 0;
	for (size_t i = 0; i < n; i++) {
		int c = vc(ver, ev[i].v);

		switch (ev[i].kind) {
		case 0:
			if (c >= 0)
				affected = true;
			break;
		case 1:
			if (c >= 0)
				affected = false;
			break;
		case 2:
			if (c > 0)
				affected = false;
			break;
		case 3:
			has_limit = true;
			if (c < 0)
				limited = true;
			break;
		}
	}
	/* limit: only versions below some limit are affected */
	if (has_limit && !limited)
		affected = false;
	if (affected && fixed && cap) {
		for (size_t i = 0; i < n; i++)
			if (ev[i].kind == 1 && vc(ver, ev[i].v) < 0) {
				size_t l = strlen(ev[i].v);

				if (l >= cap)
					l = cap - 1;
				memcpy(fixed, ev[i].v, l);
				fixed[l] = 0;
				break;
			}
	}
	free(ev);
	return affected;
}

bool osv_is_affected(const char *ranges_json, const char *versions_json, const char *version, vercmp_fn cmp,
		     char *fixed, size_t cap)
{
	bool hit = false;

	if (fixed && cap)
		fixed[0] = 0;
	if (versions_json) {
		cJSON *vs = cJSON_Parse(versions_json), *it;

		cJSON_ArrayForEach(it, vs)
		{
			if (cJSON_IsString(it) && strcmp(it->valuestring, version) == 0)
				hit = true;
		}
		cJSON_Delete(vs);
	}
	if (ranges_json) {
		cJSON *rs = cJSON_Parse(ranges_json), *it;

		cJSON_ArrayForEach(it, rs)
		{
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "type");
			char f[128];

			if (!cJSON_IsString(t) || strcmp(t->valuestring, "GIT") == 0)
				continue;
			if (range_affected(it, version, cmp, f, sizeof(f))) {
				if (!hit || (fixed && cap && !fixed[0] && f[0])) {
					if (fixed && cap) {
						size_t l = strlen(f);

						if (l >= cap)
							l = cap - 1;
						memcpy(fixed, f, l);
						fixed[l] = 0;
					}
				}
				hit = true;
			}
		}
		cJSON_Delete(rs);
	}
	return hit;
}
