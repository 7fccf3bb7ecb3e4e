#include <stdarg.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "core/log.h"

int cmd_common_opt(int c)
{
	switch (c) {
	case 'v':
		if (log_get_level() < LOG_TRACE)
			log_set_level(log_get_level() + 1);
		return 1;
	case 'q':
		log_set_level(LOG_ERROR);
		return 1;
	default:
		return 0;
	}
}

int cmd_usage_error(struct err *e, const char *cmd, const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	return err_set(e, ERR_USAGE, "%s (see 'bosun %s --help')", m, cmd);
}

void cmd_print_help(const char *text)
{
	fputs(text, stdout);
}
