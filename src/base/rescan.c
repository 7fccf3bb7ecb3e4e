/* --rescan: placeholder replaced in the next step. */
#include "base/watch.h"

int base_watch_rescan(struct watch *w, const struct watch_opts *o, struct err *e)
{
	(void)w;
	(void)o;
	return err_set(e, ERR_USAGE, "--rescan is not available yet");
}
