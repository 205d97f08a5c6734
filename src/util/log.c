/*
 * log.c - diagnostics to stderr or syslog (see log.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

/* Atomics: read on every call from any thread, written at start-up. */
static atomic_int level = LOG_LVL_WARN;
static atomic_bool use_syslog;

void log_set_level(enum log_level lvl)
{
	atomic_store(&level, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&level);
}

void log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	atomic_store(&use_syslog, true);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;

	if ((int)lvl > atomic_load(&level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (atomic_load(&use_syslog))
		syslog(prio[lvl], "%s", line);
	else
		/* One fprintf per line: stdio locks the stream, so lines
		 * from different threads do not interleave. */
		fprintf(stderr, "smbfuse: %s: %s\n", tag[lvl], line);
}
