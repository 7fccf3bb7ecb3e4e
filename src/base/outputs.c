/* CI outputs of the base commands. A small writer of our own until the
 * shared one (src/report/ci.h) lands; the formats are the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "core/fs.h"

/* Azure property-value escaping, as the agent unescapes it. */
static int az_escape(const char *s, struct buf *out, struct err *e)
{
	for (; *s; s++) {
		const char *r = NULL;
		switch (*s) {
		case '%': r = "%AZP25"; break;
		case '\r': r = "%0D"; break;
		case '\n': r = "%0A"; break;
		case ']': r = "%5D"; break;
		case ';': r = "%3B"; break;
		}
		if ((r ? buf_adds(out, r, e) : buf_add(out, s, 1, e)) < 0)
			return -1;
	}
	return 0;
}

/* java.util.Properties value: our values are digests, words and numbers,
 * but escape what Properties.load would misread anyway. */
static int prop_escape(const char *s, struct buf *out, struct err *e)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int r;

		if (ch == '\\' || ch == '=' || ch == ':' || ch == '#' || ch == '!')
			r = buf_addf(out, e, "\\%c", ch);
		else if (ch == '\n')
			r = buf_adds(out, "\\n", e);
		else if (ch == '\r')
			r = buf_adds(out, "\\r", e);
		else if (ch < 0x20 || ch >= 0x7f)
			r = buf_addf(out, e, "\\u%04X", ch);
		else
			r = buf_add(out, s, 1, e);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int append_file(const char *path, const char *data, size_t n, struct err *e)
{
	FILE *f = fopen(path, "a");

	if (!f)
		return err_errno(e, ERR_INTERNAL, "open %s", path);
	if (fwrite(data, 1, n, f) != n) {
		fclose(f);
		return err_errno(e, ERR_INTERNAL, "write %s", path);
	}
	if (fclose(f) != 0)
		return err_errno(e, ERR_INTERNAL, "write %s", path);
	return 0;
}

int base_ci_outputs(const struct base_output *o, size_t n, const char *properties_path,
		    struct buf *azure_out, struct err *e)
{
	const char *tf = getenv("TF_BUILD"), *jk = getenv("JENKINS_URL"), *gh = getenv("GITHUB_OUTPUT");
	struct buf b __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	size_t i;

	if (tf && strcasecmp(tf, "true") == 0)
		for (i = 0; i < n; i++)
			if (buf_addf(azure_out, e, "##vso[task.setvariable variable=%s;isOutput=true]", o[i].name) < 0 ||
			    az_escape(o[i].value, azure_out, e) < 0 || buf_adds(azure_out, "\n", e) < 0)
				return -1;
	if (jk && *jk && properties_path) {
		if (buf_adds(&b, "# bosun base outputs\n", e) < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (buf_addf(&b, e, "%s=", o[i].name) < 0 || prop_escape(o[i].value, &b, e) < 0 ||
			    buf_adds(&b, "\n", e) < 0)
				return -1;
		if (fs_write_atomic(properties_path, b.data, b.len, 0644, e) < 0)
			return -1;
	}
	if (gh && *gh) {
		buf_reset(&b);
		for (i = 0; i < n; i++) /* our values never hold a line break */
			if (strchr(o[i].value, '\n') == NULL && buf_addf(&b, e, "%s=%s\n", o[i].name, o[i].value) < 0)
				return -1;
		if (append_file(gh, b.data, b.len, e) < 0)
			return -1;
	}
	return 0;
}
