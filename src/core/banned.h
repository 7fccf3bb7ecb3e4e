/* Functions that have no place in this code base (unbounded or not
 * thread-safe), rejected by the compiler: the Makefile forces this header on
 * every compile (-include), so a call fails to build with an error naming
 * the function, as git's banned.h does. The system headers that declare them
 * come first, so their own declarations are not touched. */
#ifndef BOSUN_CORE_BANNED_H
#define BOSUN_CORE_BANNED_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOSUN_BANNED(func) sorry_##func##_is_a_banned_function_see_core_banned_h

#undef strcpy
#define strcpy(...) BOSUN_BANNED(strcpy)
#undef strcat
#define strcat(...) BOSUN_BANNED(strcat)
#undef strncpy
#define strncpy(...) BOSUN_BANNED(strncpy)
#undef strncat
#define strncat(...) BOSUN_BANNED(strncat)
#undef sprintf
#define sprintf(...) BOSUN_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BOSUN_BANNED(vsprintf)
#undef gets
#define gets(...) BOSUN_BANNED(gets)
#undef strtok
#define strtok(...) BOSUN_BANNED(strtok)
#undef gmtime
#define gmtime(...) BOSUN_BANNED(gmtime)
#undef localtime
#define localtime(...) BOSUN_BANNED(localtime)
#undef ctime
#define ctime(...) BOSUN_BANNED(ctime)
#undef asctime
#define asctime(...) BOSUN_BANNED(asctime)
#undef tmpnam
#define tmpnam(...) BOSUN_BANNED(tmpnam)
#undef mktemp
#define mktemp(...) BOSUN_BANNED(mktemp)

#endif
