/* Emulation for RUN steps of a foreign platform: the kernel's binfmt_misc
 * runs an ELF of another machine through its registered interpreter (Debian's
 * qemu-user-static). A handler serves a platform when it is enabled, carries
 * the F flag (the interpreter is opened at registration, so it works inside
 * the build's pivoted root, where its path does not exist) and its magic and
 * mask accept an ELF header of that machine. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/internal.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/util.h"

#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"

/* An architecture as OCI names it, the names qemu and the kernel give it,
 * and the ELF header fields of its executables. */
struct machine {
	const char *arch, *alias, *qemu;
	unsigned char elf_class, elf_data; /* 1 = 32-bit / little-endian, 2 = 64-bit / big-endian */
	unsigned short e_machine;
};

static const struct machine machines[] = {
	{ "amd64", "x86_64", "x86_64", 2, 1, 62 },	  { "arm64", "aarch64", "aarch64", 2, 1, 183 },
	{ "arm", "armhf", "arm", 1, 1, 40 },		  { "386", "i386", "i386", 1, 1, 3 },
	{ "ppc64le", NULL, "ppc64le", 2, 1, 21 },	  { "ppc64", NULL, "ppc64", 2, 2, 21 },
	{ "s390x", NULL, "s390x", 2, 2, 22 },		  { "riscv64", NULL, "riscv64", 2, 1, 243 },
	{ "mips64le", "mips64el", "mips64el", 2, 1, 8 }, { "mipsle", "mipsel", "mipsel", 1, 1, 8 },
	{ "loong64", "loongarch64", "loongarch64", 2, 1, 258 },
};

static const struct machine *machine_of(const char *arch)
{
	for (size_t i = 0; arch && i < ARRAY_SIZE(machines); i++)
		if (!strcasecmp(arch, machines[i].arch) || (machines[i].alias && !strcasecmp(arch, machines[i].alias)))
			return &machines[i];
	return NULL;
}

bool binfmt_native(const struct oci_platform *p)
{
	struct oci_platform host = { 0 };
	struct err e = ERR_INIT;
	bool native;

	if (oci_platform_default(&host, &e) < 0)
		return false;
	const struct machine *h = machine_of(host.architecture), *t = machine_of(p->architecture);
	native = (h && h == t) || (!t && p->architecture && !strcmp(p->architecture, host.architecture)) ||
		 (h && t && !strcmp(h->arch, "amd64") && !strcmp(t->arch, "386"));
	oci_platform_free(&host);
	return native;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "7f454c46..." into bytes; the number of bytes, -1 when malformed. */
static int unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (s[0] && s[0] != '\n') {
		int hi = hexval((unsigned char)s[0]), lo = s[1] ? hexval((unsigned char)s[1]) : -1;
		if (hi < 0 || lo < 0 || n == max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return (int)n;
}

/* The value after "key " (or "key: ") on a line of text, or NULL. */
static const char *field(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && (l[kl] == ' ' || (l[kl] == ':' && l[kl + 1] == ' ')))
			return l + kl + (l[kl] == ':' ? 2 : 1);
	return NULL;
}

/* Does the handler described by text accept an executable (e_type 2) or a
 * position-independent executable (3) of machine m? */
static bool accepts(const char *text, const struct machine *m)
{
	unsigned char magic[128], mask[128], hdr[64];
	const char *mg = field(text, "magic"), *mk = field(text, "mask"), *off = field(text, "offset");
	int nm, nk = 0;
	long o = off ? strtol(off, NULL, 10) : 0;

	if (!mg || (nm = unhex(mg, magic, sizeof(magic))) <= 0 || o < 0 || o + nm > (long)sizeof(hdr))
		return false;
	if (mk && (nk = unhex(mk, mask, sizeof(mask))) != nm)
		return false;
	for (int type = 2; type <= 3; type++) {
		bool ok = true;
		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, "\177ELF", 4);
		hdr[4] = m->elf_class;
		hdr[5] = m->elf_data;
		hdr[6] = 1; /* EV_CURRENT */
		bool be = m->elf_data == 2;
		hdr[16 + be] = (unsigned char)type;
		hdr[18 + be] = (unsigned char)(m->e_machine & 0xff);
		hdr[18 + !be] = (unsigned char)(m->e_machine >> 8);
		for (int i = 0; i < nm && ok; i++) {
			unsigned char k = nk ? mask[i] : 0xff;
			ok = (hdr[o + i] & k) == (magic[i] & k);
		}
		if (ok)
			return true;
	}
	return false;
}

static int read_small(const char *path, struct buf *b)
{
	struct err e = ERR_INIT;

	buf_reset(b);
	return fs_read_file(path, b, 16384, &e);
}

/* How to register a handler, for the error message. */
static int need_qemu(struct err *e, const char *plat, const struct machine *m, const char *why)
{
	return err_set(e, ERR_INTERNAL,
		       "%s: RUN steps need emulation, but %s. Register qemu as root: mount -t binfmt_misc "
		       "binfmt_misc " BINFMT_DIR "; apt-get install qemu-user-static binfmt-support; "
		       "update-binfmts --enable qemu-%s",
		       plat, why, m->qemu);
}

int binfmt_check(const struct oci_platform *p, struct err *e)
{
	const char *dir = getenv("BOSUN_BINFMT_DIR"); /* tests only: another directory to read */
	char *ps __attribute__((cleanup(freep))) = oci_platform_string(p);
	struct buf t __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	char path[4096], why[512];
	const struct machine *m = machine_of(p->architecture);
	const char *nof = NULL;
	DIR *d;
	struct dirent *de;
	bool found = false;

	if (binfmt_native(p))
		return 0;
	if (!ps)
		return err_oom(e);
	if (!m)
		return err_set(e, ERR_INTERNAL, "%s: RUN steps need emulation, and bosun knows no emulator for %s", ps,
			       p->architecture);
	if (!dir || !*dir)
		dir = BINFMT_DIR;
	snprintf(path, sizeof(path), "%s/status", dir);
	if (read_small(path, &t) < 0) {
		snprintf(why, sizeof(why), "binfmt_misc is not mounted on %s", dir);
		return need_qemu(e, ps, m, why);
	}
	if (!str_starts(t.data, "enabled")) {
		snprintf(why, sizeof(why), "binfmt_misc is disabled (%s/status)", dir);
		return need_qemu(e, ps, m, why);
	}
	if (!(d = opendir(dir)))
		return err_errno(e, ERR_INTERNAL, "%s", dir);
	char nofname[256] = "";
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "status") || !strcmp(de->d_name, "register"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (read_small(path, &t) < 0 || !str_starts(t.data, "enabled") || !accepts(t.data, m))
			continue;
		const char *fl = field(t.data, "flags");
		if (fl && strcspn(fl, "F\n") < strcspn(fl, "\n"))
			found = true;
		else if (!nof)
			nof = snprintf(nofname, sizeof(nofname), "%s", de->d_name) >= 0 ? nofname : "?";
	}
	closedir(d);
	if (found)
		return 0;
	if (nof)
		snprintf(why, sizeof(why),
			 "the binfmt_misc handler %s/%s lacks the F (fix binary) flag, which the build's sandbox needs",
			 dir, nof);
	else
		snprintf(why, sizeof(why), "no binfmt_misc handler for %s is registered in %s", m->qemu, dir);
	return need_qemu(e, ps, m, why);
}
