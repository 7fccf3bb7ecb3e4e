/* Opening an SQLite file that came from outside (an image's rpmdb.sqlite,
 * a vulnerability database pulled from a registry): its schema must run
 * nothing of its own, so defensive mode, no views, no triggers, no
 * untrusted schema functions. */
#ifndef BOSUN_SCAN_SQLITE_UNTRUSTED_H
#define BOSUN_SCAN_SQLITE_UNTRUSTED_H

#include <sqlite3.h>

static inline void sqlite_untrusted(sqlite3 *s)
{
	sqlite3_db_config(s, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(s, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
	sqlite3_db_config(s, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	sqlite3_db_config(s, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
}

#endif
