/* Go binaries: the build info the linker writes into every executable
 * (runtime/debug.BuildInfo: the Go version and the module list), found
 * while the file streams past, with no second read.
 *
 * The info starts with a 32-byte header: the magic "\xff Go buildinf:",
 * the pointer size, a flags byte, then (Go 1.18 and later, flag 2) two
 * varint-prefixed strings at offset 32: the Go version and the module
 * info. Before Go 1.18 the header holds instead two pointers to Go string
 * headers (pointer, length) of runtime.buildVersion and runtime.modinfo,
 * which live elsewhere in the file: the string headers in the data
 * segment after the build info, their bytes in the read-only data before
 * it. So while streaming, goscan keeps the ELF program headers (to turn
 * addresses into file offsets), every place "go1." occurs and every place
 * the module info's 16-byte start sentinel occurs (with what follows),
 * and, once the pointers are known, the bytes at the string headers'
 * offsets. At the end the pointers decide which candidate is the version
 * and which is the module info: exact offsets, no guessing. The kept form
 * is always the 1.18 inline one, so the cache and cat_go see one layout. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scan/cat.h"

static const char go_magic[] = "\xff Go buildinf:";
#define GO_MAGIC_LEN 14
static const unsigned char mod_start[16] = {0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02,
					    0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6};
#define CARRY 63	  /* longest pattern - 1, with room */
#define ELF_HDR_KEEP 4096 /* ELF header and program headers */
#define VER_KEEP 40	  /* bytes kept after each "go1." */
#define MOD_KEEP (64u << 10)
#define MAX_VER_CAND 512
#define MAX_MOD_CAND 4
#define MAX_LOADS 16

enum cap_kind { CAP_ELF, CAP_MAGIC, CAP_VER, CAP_MOD, CAP_HDR_VER, CAP_HDR_MOD };

/* Bytes of the stream from an absolute offset, filled as they pass. */
struct capture {
	enum cap_kind kind;
	uint64_t start;
	size_t want, have;
	unsigned char *d;
};

struct goscan {
	bool is_elf, is_go, checked, done, resolved;
	uint64_t off; /* stream offset of the next byte fed */
	unsigned char carry[CARRY];
	size_t ncarry;
	struct capture *cap;
	size_t ncap, alloc, n_ver, n_mod;
	bool oom;
};

struct goscan *goscan_new(void)
{
	return calloc(1, sizeof(struct goscan));
}

void goscan_free(struct goscan *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->ncap; i++)
		free(g->cap[i].d);
	free(g->cap);
	free(g);
}

bool goscan_done(const struct goscan *g)
{
	return g->done;
}

static struct capture *cap_find(struct goscan *g, enum cap_kind kind)
{
	for (size_t i = 0; i < g->ncap; i++)
		if (g->cap[i].kind == kind)
			return &g->cap[i];
	return NULL;
}

static struct capture *cap_new(struct goscan *g, enum cap_kind kind, uint64_t start, size_t want)
{
	struct capture *c;

	for (size_t i = 0; i < g->ncap; i++)
		if (g->cap[i].kind == kind && g->cap[i].start == start)
			return &g->cap[i]; /* seen already (pattern in the carry) */
	if (g->ncap == g->alloc) {
		size_t na = g->alloc ? g->alloc * 2 : 16;
		struct capture *nc = realloc(g->cap, na * sizeof(*nc));

		if (!nc) {
			g->oom = true;
			return NULL;
		}
		g->cap = nc, g->alloc = na;
	}
	c = &g->cap[g->ncap];
	memset(c, 0, sizeof(*c));
	c->d = malloc(want);
	if (!c->d) {
		g->oom = true;
		return NULL;
	}
	c->kind = kind, c->start = start, c->want = want;
	g->ncap++;
	return c;
}

/* Copy the bytes [at, at+n) of the stream into every capture that is
 * waiting for them (contiguously: a capture never gets a gap). */
static void cap_fill(struct goscan *g, uint64_t at, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < g->ncap; i++) {
		struct capture *c = &g->cap[i];
		uint64_t next = c->start + c->have;
		size_t k;

		if (c->have == c->want || next < at || next >= at + n)
			continue;
		k = (size_t)(at + n - next);
		if (k > c->want - c->have)
			k = c->want - c->have;
		memcpy(c->d + c->have, p + (next - at), k);
		c->have += k;
	}
}

static uint64_t rd_uint(const unsigned char *p, int size, bool big)
{
	uint64_t v = 0;

	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
	return v;
}

/* File offset of a virtual address, from the ELF program headers (PT_LOAD);
 * UINT64_MAX when no loaded segment holds it in the file. */
static uint64_t vaddr_to_off(const struct capture *elf, uint64_t va)
{
	const unsigned char *h = elf->d;
	bool is64, big;
	uint64_t phoff, phentsize, phnum;

	if (elf->have < 52)
		return UINT64_MAX;
	is64 = h[4] == 2, big = h[5] == 2;
	if (is64 && elf->have < 64)
		return UINT64_MAX;
	phoff = is64 ? rd_uint(h + 32, 8, big) : rd_uint(h + 28, 4, big);
	phentsize = rd_uint(h + (is64 ? 54 : 42), 2, big);
	phnum = rd_uint(h + (is64 ? 56 : 44), 2, big);
	if (phentsize < (is64 ? 56u : 32u) || phnum > MAX_LOADS * 4)
		return UINT64_MAX;
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t o = phoff + i * phentsize, poff, pva, psz;
		const unsigned char *ph;

		if (o > elf->have || phentsize > elf->have - o)
			return UINT64_MAX;
		ph = h + o;
		if (rd_uint(ph, 4, big) != 1) /* PT_LOAD */
			continue;
		poff = is64 ? rd_uint(ph + 8, 8, big) : rd_uint(ph + 4, 4, big);
		pva = is64 ? rd_uint(ph + 16, 8, big) : rd_uint(ph + 8, 4, big);
		psz = is64 ? rd_uint(ph + 32, 8, big) : rd_uint(ph + 16, 4, big);
		if (va >= pva && va - pva < psz)
			return poff + (va - pva);
	}
	return UINT64_MAX;
}

/* Once the pre-1.18 header has streamed past: ask for the two string
 * headers it points to. */
static void want_headers(struct goscan *g)
{
	struct capture *m = cap_find(g, CAP_MAGIC), *elf = cap_find(g, CAP_ELF);
	int ps;
	bool big;

	if (g->resolved || !m || !elf || m->have < 32 || (m->d[15] & 2))
		return;
	g->resolved = true;
	ps = m->d[14], big = (m->d[15] & 1) != 0;
	if (ps != 4 && ps != 8)
		return;
	/* both offsets first: cap_new may move the captures m and elf point into */
	{
		uint64_t off[2];

		for (int i = 0; i < 2; i++)
			off[i] = vaddr_to_off(elf, rd_uint(m->d + 16 + i * ps, ps, big));
		for (int i = 0; i < 2; i++)
			if (off[i] != UINT64_MAX)
				cap_new(g, i ? CAP_HDR_MOD : CAP_HDR_VER, off[i], (size_t)(2 * ps));
	}
}

/* Every match of pat starting before limit in p[0, n) (stream offset base). */
static void scan_one(struct goscan *g, uint64_t base, const unsigned char *p, size_t n,
		     size_t limit, const void *pat, size_t plen, enum cap_kind kind)
{
	size_t i = 0;

	while (i < limit && i + plen <= n) {
		const unsigned char *q = memmem(p + i, n - i, pat, plen);

		if (!q || (size_t)(q - p) >= limit)
			return;
		i = (size_t)(q - p);
		if (kind == CAP_MAGIC && !cap_find(g, CAP_MAGIC))
			cap_new(g, CAP_MAGIC, base + i, CAT_GOINFO_MAX);
		else if (kind == CAP_VER && g->n_ver < MAX_VER_CAND &&
			 (i + 4 >= n || (p[i + 4] >= '0' && p[i + 4] <= '9')) &&
			 cap_new(g, CAP_VER, base + i, VER_KEEP))
			g->n_ver++;
		else if (kind == CAP_MOD && g->n_mod < MAX_MOD_CAND &&
			 cap_new(g, CAP_MOD, base + i, MOD_KEEP))
			g->n_mod++;
		i++;
	}
}

static void scan_patterns(struct goscan *g, uint64_t base, const unsigned char *p, size_t n,
			  size_t limit)
{
	scan_one(g, base, p, n, limit, go_magic, GO_MAGIC_LEN, CAP_MAGIC);
	/* the candidates of the pre-1.18 form: in Go programs only */
	if (g->is_go) {
		scan_one(g, base, p, n, limit, "go1.", 4, CAP_VER);
		scan_one(g, base, p, n, limit, mod_start, sizeof(mod_start), CAP_MOD);
	}
}

/* The Go linker's build-id note (name "Go", type 4), in the first page. */
static bool has_go_note(const unsigned char *p, size_t n)
{
	static const unsigned char note[4] = {'G', 'o', 0, 0};
	size_t lim = n < ELF_HDR_KEEP ? n : ELF_HDR_KEEP;

	for (size_t i = 12; i + 4 <= lim; i++) {
		const unsigned char *q = memmem(p + i, lim - i, note, 4);

		if (!q)
			return false;
		i = (size_t)(q - p);
		/* namesz 4 at -12, type 4 at -4, little- or big-endian */
		if ((q[-4] == 4 && q[-3] == 0 && q[-12] == 4 && q[-11] == 0) ||
		    (q[-1] == 4 && q[-9] == 4))
			return true;
	}
	return false;
}

static bool pointer_form_complete(struct goscan *g)
{
	const struct capture *m = cap_find(g, CAP_MAGIC);

	if (!m || m->have < 32 || !g->resolved)
		return false;
	for (size_t i = 0; i < g->ncap; i++)
		if ((g->cap[i].kind == CAP_HDR_VER || g->cap[i].kind == CAP_HDR_MOD) &&
		    g->cap[i].have < g->cap[i].want)
			return false;
	return true;
}

void goscan_feed(struct goscan *g, const unsigned char *p, size_t n)
{
	if (g->done || !n || g->oom)
		return;
	if (!g->checked) {
		g->checked = true;
		g->is_elf = n >= 4 && memcmp(p,
					     "\x7f"
					     "ELF",
					     4) == 0;
		if (!g->is_elf || !cap_new(g, CAP_ELF, 0, ELF_HDR_KEEP)) {
			g->done = true;
			return;
		}
		g->is_go = has_go_note(p, n);
	}
	/* patterns that straddle the previous read and this one */
	if (g->ncarry) {
		unsigned char tmp[2 * CARRY];
		size_t h = n < CARRY ? n : CARRY;

		memcpy(tmp, g->carry, g->ncarry);
		memcpy(tmp + g->ncarry, p, h);
		scan_patterns(g, g->off - g->ncarry, tmp, g->ncarry + h, g->ncarry);
		cap_fill(g, g->off - g->ncarry, tmp, g->ncarry + h);
	}
	scan_patterns(g, g->off, p, n, n);
	cap_fill(g, g->off, p, n);
	want_headers(g);
	cap_fill(g, g->off, p, n);
	{
		struct capture *m = cap_find(g, CAP_MAGIC);

		/* the 1.18 form is complete once its header and strings are
		 * in; the older one once the string headers are */
		if (m && m->have >= 32 && (m->d[15] & 2) ? m->have == m->want
							 : pointer_form_complete(g))
			g->done = true;
	}
	if (n >= CARRY) {
		memcpy(g->carry, p + n - CARRY, CARRY);
		g->ncarry = CARRY;
	} else {
		size_t keep = g->ncarry + n > CARRY ? CARRY - n : g->ncarry;

		memmove(g->carry, g->carry + g->ncarry - keep, keep);
		memcpy(g->carry + keep, p, n);
		g->ncarry = keep + n;
	}
	g->off += n;
}

/* The candidate of a kind at exactly off holding at least len bytes. */
static const struct capture *cand_at(const struct goscan *g, enum cap_kind kind, uint64_t off,
				     uint64_t len)
{
	for (size_t i = 0; i < g->ncap; i++)
		if (g->cap[i].kind == kind && g->cap[i].start == off && g->cap[i].have >= len)
			return &g->cap[i];
	return NULL;
}

static int put_varint(struct buf *b, uint64_t v, struct err *e)
{
	unsigned char t[10];
	size_t n = 0;

	do {
		t[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return buf_add(b, t, n, e);
}

/* A pre-1.18 build info, resolved into the inline form. */
static int finish_pointer_form(struct goscan *g, const struct capture *m, struct buf *out,
			       struct err *e)
{
	const struct capture *hv = cap_find(g, CAP_HDR_VER), *hm = cap_find(g, CAP_HDR_MOD),
			     *elf = cap_find(g, CAP_ELF);
	const struct capture *vs = NULL, *ms = NULL;
	int ps = m->d[14];
	bool big = (m->d[15] & 1) != 0;
	uint64_t vlen = 0, mlen = 0;
	unsigned char hdr[32];

	if (hv && hv->have == hv->want) {
		vlen = rd_uint(hv->d + ps, ps, big);
		if (vlen <= VER_KEEP)
			vs = cand_at(g, CAP_VER, vaddr_to_off(elf, rd_uint(hv->d, ps, big)), vlen);
	}
	if (hm && hm->have == hm->want) {
		mlen = rd_uint(hm->d + ps, ps, big);
		if (mlen <= MOD_KEEP)
			ms = cand_at(g, CAP_MOD, vaddr_to_off(elf, rd_uint(hm->d, ps, big)), mlen);
	}
	if (!vs && !ms)
		return 0;
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, go_magic, GO_MAGIC_LEN);
	hdr[14] = (unsigned char)ps, hdr[15] = 2;
	if (buf_add(out, hdr, sizeof(hdr), e) < 0 || put_varint(out, vs ? vlen : 0, e) < 0 ||
	    (vs && buf_add(out, vs->d, (size_t)vlen, e) < 0) ||
	    put_varint(out, ms ? mlen : 0, e) < 0 ||
	    (ms && buf_add(out, ms->d, (size_t)mlen, e) < 0))
		return -1;
	return 0;
}

int goscan_finish(struct goscan *g, struct buf *out, struct err *e)
{
	const struct capture *m;

	if (g->oom)
		return err_oom(e);
	m = cap_find(g, CAP_MAGIC);
	if (!g->is_elf || !m || m->have < 32)
		return 0;
	if (m->d[15] & 2)
		return buf_add(out, m->d, m->have, e);
	return finish_pointer_form(g, m, out, e);
}

/* ------------------------------------------------------------ cataloger */

static int varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	int shift = 0;

	*v = 0;
	while (*p < end && shift < 63) {
		unsigned char c = *(*p)++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

/* The "=>" line after a module: its replacement stands in for it. */
static int replace_last(struct inventory *inv, size_t first, const char *name, const char *ver,
			struct err *e)
{
	struct pkg *last;
	char *nn, *nv, *sn, *sv;

	if (inv->n <= first || strcmp(inv->pkgs[inv->n - 1].type, "go-module") != 0)
		return 0;
	last = &inv->pkgs[inv->n - 1];
	nn = strdup(name), nv = strdup(ver), sn = strdup(name), sv = strdup(ver);
	if (!nn || !nv || !sn || !sv) {
		free(nn), free(nv), free(sn), free(sv);
		return err_oom(e);
	}
	free(last->name), free(last->src_name), free(last->version), free(last->src_version);
	last->name = nn, last->version = nv, last->src_name = sn, last->src_version = sv;
	return 0;
}

/* One line of the module info: "path", "mod", "dep", "=>" or "build". */
static int go_line(struct inventory *inv, const struct kfile *k, size_t first, char *line,
		   struct err *e)
{
	char *f[4] = {0}, *save = NULL;
	int nf = 0;

	for (char *t = strtok_r(line, "\t", &save); t && nf < 4; t = strtok_r(NULL, "\t", &save))
		f[nf++] = t;
	if (nf >= 3 && strcmp(f[0], "dep") == 0)
		return cat_add(inv, "go-module", "Go", f[1], f[2], NULL, NULL, k, e);
	if (nf >= 3 && strcmp(f[0], "=>") == 0)
		return replace_last(inv, first, f[1], f[2], e);
	/* the main module: "(devel)" is no version (before Go 1.24, and
	 * builds outside version control) */
	if (nf >= 2 && strcmp(f[0], "mod") == 0)
		return cat_add(inv, "go-module", "Go", f[1],
			       nf >= 3 && strcmp(f[2], "(devel)") != 0 ? f[2] : "", NULL, NULL, k,
			       e);
	return 0;
}

int cat_go(struct inventory *inv, const struct kfile *k, struct err *e)
{
	const unsigned char *p = (const unsigned char *)k->data.data, *end = p + k->data.len;
	uint64_t vl, ml;
	char gover[64];
	const char *mod, *mend;
	size_t first = inv->n;

	if (k->data.len < 32 || !(p[15] & 2))
		return 0;
	p += 32;
	if (varint(&p, end, &vl) < 0 || vl >= sizeof(gover) || vl > (uint64_t)(end - p))
		return 0;
	memcpy(gover, p, vl);
	gover[vl] = 0;
	p += vl;
	gover[strcspn(gover, " ")] = 0; /* "go1.22.1 X:boringcrypto" */
	if (str_starts(gover, "go") &&
	    cat_add(inv, "stdlib", "Go", "stdlib", gover + 2, NULL, NULL, k, e) < 0)
		return -1;
	if (varint(&p, end, &ml) < 0 || ml > (uint64_t)(end - p) || ml < 33)
		return 0;
	/* module info sits between two 16-byte sentinels */
	mod = (const char *)p + 16;
	mend = (const char *)p + ml - 16;
	for (const char *l = mod; l < mend;) {
		const char *nl = memchr(l, '\n', (size_t)(mend - l));
		const char *le = nl ? nl : mend;
		char line[1024];
		size_t n = (size_t)(le - l);

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, l, n);
		line[n] = 0;
		if (go_line(inv, k, first, line, e) < 0)
			return -1;
		l = le + 1;
	}
	return 0;
}
