/*
 * log.h - diagnostics to stderr (foreground) or syslog (daemon).
 *
 * Messages are sentences for a person: they name the cause and, where
 * there is one, the remedy.  Nothing secret (passwords, keys, hashes,
 * session keys) is ever passed to these functions.
 */
#ifndef SMBFUSE_LOG_H
#define SMBFUSE_LOG_H

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

/* Messages above this level are dropped.  Default: LOG_LVL_WARN. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Send messages to syslog instead of stderr (after daemonizing). */
void log_to_syslog(const char *ident);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
/* The level test comes first so a debug line costs nothing when off. */
#define log_debug(...) \
	do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
