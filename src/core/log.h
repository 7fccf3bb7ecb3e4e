/* Logging to stderr with levels. Library code may log debug/info detail;
 * anything the user must act on travels up as a struct err instead. */
#ifndef BOSUN_CORE_LOG_H
#define BOSUN_CORE_LOG_H

#include <stdbool.h>

enum log_level { LOG_QUIET = 0, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Colour only when stderr is a TTY and NO_COLOR is unset. */
bool log_color(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(LOG_TRACE, __VA_ARGS__)

#endif
