#include "core/progress.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

/* Plain mode prints a line per item at most this often, so CI logs show
 * long transfers moving without drowning in output. */
#define PLAIN_INTERVAL 5.0
#define TTY_INTERVAL 0.1

struct item {
	char label[64];
	uint64_t total, done;
	const char *status;
	double last_plain;
};

struct progress {
	char title[256];
	struct item *items;
	int n, alloc;
	bool tty, silent;
	int drawn; /* lines drawn last time (TTY) */
	double last_draw, start;
};

static bool want_tty(void)
{
	const char *m = getenv("BOSUN_PROGRESS");

	if (m && strcmp(m, "plain") == 0)
		return false;
	if (m && strcmp(m, "tty") == 0)
		return true;
	return isatty(STDERR_FILENO) && !getenv("CI") && !getenv("TF_BUILD") &&
	       !getenv("JENKINS_URL");
}

struct progress *progress_new(const char *title)
{
	struct progress *p = calloc(1, sizeof(*p));
	const char *m = getenv("BOSUN_PROGRESS");

	if (!p)
		return NULL;
	snprintf(p->title, sizeof(p->title), "%s", title);
	p->tty = want_tty();
	p->silent = log_get_level() < LOG_INFO || (m && strcmp(m, "none") == 0);
	p->start = time_now();
	return p;
}

static void bar(char *out, size_t n, uint64_t done, uint64_t total)
{
	const int w = 24;
	int fill = total ? (int)((double)done / (double)total * w) : 0, i;

	if (fill > w)
		fill = w;
	if (n < (size_t)w + 3)
		return;
	out[0] = '[';
	for (i = 0; i < w; i++)
		out[i + 1] = i < fill ? '=' : (i == fill ? '>' : ' ');
	out[w + 1] = ']';
	out[w + 2] = 0;
}

static void line(const struct item *it, char *out, size_t n, bool with_bar)
{
	char d[16], t[16], b[32] = "";

	fmt_size(it->done, d);
	fmt_size(it->total, t);
	if (with_bar && !it->status)
		bar(b, sizeof(b), it->done, it->total);
	if (it->status)
		snprintf(out, n, "  %-24s %s %s", it->label, it->status, t);
	else if (it->total)
		snprintf(out, n, "  %-24s %s %s / %s (%d%%)", it->label, b, d, t,
			 (int)(100.0 * (double)it->done / (double)it->total));
	else
		snprintf(out, n, "  %-24s %s %s", it->label, b, d);
}

static void draw_tty(struct progress *p, bool force)
{
	double now = time_now();
	char l[200];
	int i;

	if (!force && now - p->last_draw < TTY_INTERVAL)
		return;
	p->last_draw = now;
	if (p->drawn)
		fprintf(stderr, "\033[%dA", p->drawn);
	for (i = 0; i < p->n; i++) {
		line(&p->items[i], l, sizeof(l), true);
		fprintf(stderr, "\r\033[2K%s\n", l);
	}
	p->drawn = p->n;
	fflush(stderr);
}

int progress_add(struct progress *p, const char *label, uint64_t total)
{
	struct item *it;

	if (!p)
		return -1;
	if (p->n == p->alloc) {
		int na = p->alloc ? p->alloc * 2 : 8;
		struct item *ni = realloc(p->items, (size_t)na * sizeof(*ni));

		if (!ni)
			return -1;
		p->items = ni;
		p->alloc = na;
	}
	/* The title appears with the first item, so a step that fails before
	 * transferring anything prints only its error. */
	if (p->n == 0 && !p->silent)
		fprintf(stderr, "%s\n", p->title);
	it = &p->items[p->n];
	memset(it, 0, sizeof(*it));
	snprintf(it->label, sizeof(it->label), "%s", label);
	it->total = total;
	it->last_plain = time_now();
	if (!p->silent && p->tty)
		draw_tty(p, true);
	return p->n++;
}

void progress_update(struct progress *p, int id, uint64_t done)
{
	struct item *it;
	char l[200];

	if (!p || id < 0 || id >= p->n)
		return;
	it = &p->items[id];
	it->done = done;
	if (p->silent)
		return;
	if (p->tty) {
		draw_tty(p, false);
	} else if (time_now() - it->last_plain >= PLAIN_INTERVAL) {
		it->last_plain = time_now();
		line(it, l, sizeof(l), false);
		fprintf(stderr, "%s\n", l);
	}
}

void progress_finish(struct progress *p, int id, const char *status)
{
	struct item *it;
	char l[200];

	if (!p || id < 0 || id >= p->n)
		return;
	it = &p->items[id];
	it->status = status;
	if (it->done > it->total)
		it->total = it->done;
	if (p->silent)
		return;
	if (p->tty) {
		draw_tty(p, true);
	} else {
		line(it, l, sizeof(l), false);
		fprintf(stderr, "%s\n", l);
	}
}

void progress_free(struct progress *p)
{
	uint64_t bytes = 0;
	char s[16];
	int i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		bytes += p->items[i].done;
	if (!p->silent && p->n > 0) {
		if (p->tty)
			draw_tty(p, true);
		fmt_size(bytes, s);
		fprintf(stderr, "  %d item%s, %s transferred in %.1fs\n", p->n, p->n == 1 ? "" : "s",
			s, time_now() - p->start);
	}
	free(p->items);
	free(p);
}
