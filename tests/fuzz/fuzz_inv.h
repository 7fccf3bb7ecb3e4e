/* Shared by the package database targets: catalog one in-memory file with
 * inventory_catalog_file and check what comes back is well formed. */
#ifndef BOSUN_FUZZ_INV_H
#define BOSUN_FUZZ_INV_H
#include <stdio.h>
#include <string.h>
#include "fuzz.h"
#include "scan/inventory.h"

static inline void fuzz_catalog(const char *path, const void *d, size_t n, bool exec)
{
	struct inventory inv;
	struct err e = ERR_INIT;

	if (inventory_catalog_file(path, d, n, exec, &inv, &e) < 0) {
		/* a failure says why, with a documented exit code */
		if (!e.msg[0] || e.code < ERR_POLICY || e.code > ERR_INTERNAL) {
			fprintf(stderr, "%s: failure without a message or with code %d\n", path,
				e.code);
			abort();
		}
		return;
	}
	for (size_t i = 0; i < inv.n; i++) {
		const struct pkg *p = &inv.pkgs[i];

		/* a version may be empty (listed without one); a package found
		 * inside an archive has a path below it ("x.jar!/...") */
		if (!p->name[0] || !p->type[0] || strncmp(p->path, path, strlen(path)) != 0 ||
		    (p->path[strlen(path)] && strncmp(p->path + strlen(path), "!/", 2) != 0)) {
			fprintf(stderr, "%s: package %zu malformed: '%s' '%s' '%s'\n", path, i,
				p->name, p->version, p->type);
			abort();
		}
	}
	inventory_free(&inv);
}
#endif
