/* Installed language packages: Python distributions (a .dist-info's
 * METADATA, an .egg-info's PKG-INFO or the egg-info file itself, an egg's
 * EGG-INFO/PKG-INFO, also inside .egg and .whl archives) and npm packages
 * (package.json: installed under node_modules, or an application's own with
 * a name and a version). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <string.h>

#include "scan/cat.h"

int cat_python(struct inventory *inv, const struct kfile *k, struct err *e)
{
	char name[256], ver[128];
	const char *s = k->data.data, *end = s + k->data.len;
	const char *hdr_end = memmem(s, k->data.len, "\n\n", 2);

	/* the header ends at the first blank line; the description follows */
	if (!cat_field(s, hdr_end ? hdr_end : end, "Name", name, sizeof(name)))
		return 0;
	cat_field(s, hdr_end ? hdr_end : end, "Version", ver, sizeof(ver));
	/* PEP 503 normalised name (db build normalises OSV's the same way) */
	{
		size_t n = 0;

		for (char *c = name; *c; c++) {
			bool sep = *c == '-' || *c == '_' || *c == '.';

			if (!(sep && n && name[n - 1] == '-'))
				name[n++] = sep ? '-' : (char)tolower((unsigned char)*c);
		}
		name[n] = 0;
	}
	return cat_add(inv, "python", "PyPI", name, ver, NULL, NULL, k, e);
}

static bool install_dir(const char *path)
{
	const char *nm = strstr(path, "node_modules/"), *rest;

	for (const char *q; nm && (q = strstr(nm + 1, "node_modules/"));)
		nm = q;
	if (!nm)
		return false;
	rest = nm + 13;
	if (*rest == '@')
		rest = strchr(rest, '/') ? strchr(rest, '/') + 1 : rest;
	rest = strchr(rest, '/');
	return rest && strcmp(rest, "/package.json") == 0;
}

int cat_npm(struct inventory *inv, const struct kfile *k, struct err *e)
{
	cJSON *j = cJSON_ParseWithLength(k->data.data, k->data.len);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "name"),
		    *v = cJSON_GetObjectItemCaseSensitive(j, "version");
	int r = 0;

	/* a package.json without a version is a package only where npm
	 * installs one: node_modules/NAME/ or node_modules/@SCOPE/NAME/ */
	if (cJSON_IsString(n) && (cJSON_IsString(v) || install_dir(k->path)))
		r = cat_add(inv, "npm", "npm", n->valuestring,
			    cJSON_IsString(v) ? v->valuestring : NULL, NULL, NULL, k, e);
	cJSON_Delete(j);
	return r;
}
