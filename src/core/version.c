#include "core/version.h"

/* The Makefile passes -DBOSUN_VERSION to this file only. */
#ifndef BOSUN_VERSION
#define BOSUN_VERSION "0.0.0-dev"
#endif

const char bosun_version[] = BOSUN_VERSION;
