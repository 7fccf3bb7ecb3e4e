#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static enum log_level level = LOG_INFO;

void log_set_level(enum log_level lvl)
{
	level = lvl;
}

enum log_level log_get_level(void)
{
	return level;
}

bool log_color(void)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return false;
	return isatty(STDERR_FILENO);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "", "error", "warning", "info", "debug", "trace" };
	static const char *const colors[] = { "", "\033[31m", "\033[33m", "", "\033[2m", "\033[2m" };
	char line[4096];
	va_list ap;
	bool c;

	if (lvl > level || lvl == LOG_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c = log_color();
	/* info lines are the normal narration: no prefix. */
	if (lvl == LOG_INFO)
		fprintf(stderr, "%s\n", line);
	else
		fprintf(stderr, "%s%s:%s %s\n", c ? colors[lvl] : "", names[lvl], c ? "\033[0m" : "",
			line);
}
