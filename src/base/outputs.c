/* CI outputs of the base commands, through the shared CI writers. */
#include <stdlib.h>

#include "base/base.h"
#include "core/fs.h"
#include "report/ci.h"

int base_ci_outputs(const struct base_output *o, size_t n, const char *properties_path,
		    struct buf *azure_out, struct err *e)
{
	struct buf b = BUF_INIT;
	struct ci_output *co;
	struct ci_env env;
	size_t i;
	int rc = -1;

	ci_detect(&env);
	co = calloc(n ? n : 1, sizeof(*co));
	if (!co)
		return err_oom(e);
	for (i = 0; i < n; i++)
		co[i] = (struct ci_output){ o[i].name, o[i].value };
	if (env.azure)
		for (i = 0; i < n; i++)
			if (ci_azure_setvar(azure_out, co[i].name, co[i].value, true, e) < 0)
				goto out;
	if (env.jenkins && properties_path) {
		if (ci_jenkins_properties(co, n, &b, e) < 0 ||
		    fs_write_atomic(properties_path, b.data, b.len, 0644, e) < 0)
			goto out;
	}
	if (env.github_output) {
		buf_reset(&b);
		if (ci_github_outputs(co, n, &b, e) < 0 ||
		    ci_append_file(env.github_output, b.data, b.len, e) < 0)
			goto out;
	}
	rc = 0;
out:
	free(co);
	buf_free(&b);
	return rc;
}
