#include <archive.h>
#include <ctype.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "scan/cvss.h"
#include "scan/db.h"
#include "scan/sqlite_untrusted.h"

struct vdb {
	sqlite3 *db;
	sqlite3_stmt *q;
};

static int err_sqlite(struct err *e, sqlite3 *db, int code, const char *what)
{
	return err_set(e, code, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE vulns(id TEXT PRIMARY KEY, summary TEXT, aliases TEXT, severity TEXT, score REAL,"
	" vector TEXT, sev_source TEXT, modified TEXT, alt_vector TEXT, alt_score REAL);"
	"CREATE TABLE aliases(alias TEXT NOT NULL, id TEXT NOT NULL);"
	"CREATE TABLE affected(id TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL, ranges TEXT,"
	" versions TEXT, severity TEXT);"
	"CREATE TABLE nvd(cve TEXT PRIMARY KEY, severity TEXT, score REAL, vector TEXT, alt_vector TEXT,"
	" alt_score REAL);"
	"CREATE INDEX affected_id ON affected(id); CREATE INDEX aliases_id ON aliases(id);";

struct builder {
	sqlite3 *db;
	sqlite3_stmt *ins_vuln, *del_aff, *del_alias, *ins_alias, *ins_aff, *ins_nvd;
	struct vdb_stats *st;
	cJSON *sources;
};

static int exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ERR_INTERNAL, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct err *e)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return err_sqlite(e, db, ERR_INTERNAL, "database");
	return 0;
}

static int step_done(struct builder *b, sqlite3_stmt *s, struct err *e)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return err_sqlite(e, b->db, ERR_INTERNAL, "database write");
	return 0;
}

/* alias names the record id (the id is an alias of itself). */
static int insert_alias(struct builder *b, const char *alias, const char *id, struct err *e)
{
	sqlite3_bind_text(b->ins_alias, 1, alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_alias, 2, id, -1, SQLITE_STATIC);
	return step_done(b, b->ins_alias, e);
}

/* One row of affected; a NULL ranges, versions or severity stays NULL. */
static int insert_affected(struct builder *b, const char *id, const char *eco, const char *name,
			   const char *ranges, const char *versions, const char *severity, struct err *e)
{
	sqlite3_bind_text(b->ins_aff, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_aff, 2, eco, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_aff, 3, name, -1, SQLITE_STATIC);
	if (ranges)
		sqlite3_bind_text(b->ins_aff, 4, ranges, -1, SQLITE_STATIC);
	if (versions)
		sqlite3_bind_text(b->ins_aff, 5, versions, -1, SQLITE_STATIC);
	if (severity)
		sqlite3_bind_text(b->ins_aff, 6, severity, -1, SQLITE_STATIC);
	return step_done(b, b->ins_aff, e);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The CVSS vectors of a record (or an NVD entry) that score, one per
 * version: v3.1 and v3.0 count as one version, the last one given wins.
 * Which one decides: v4.0, else v3, else v2 (the newest version the
 * source gives); when there are both v4.0 and v3, the v3 vector is kept
 * as the alternative that `--cvss-prefer v3` chooses at scan time. */
struct cvss_pick {
	const char *vec[5]; /* by cvss_version() */
	double score[5];
};

static void cvss_pick_add(struct cvss_pick *p, const char *v)
{
	struct err e2 = ERR_INIT;
	double sc;
	int ver = cvss_version(v);

	if (ver >= 2 && cvss_score(v, &sc, &e2) == 0)
		p->vec[ver] = v, p->score[ver] = sc;
}

/* The deciding vector (NULL: none scores) and the alternative (NULL: none). */
static void cvss_pick_choose(const struct cvss_pick *p, const char **vec, double *score, const char **alt,
			     double *alt_score)
{
	int ver = p->vec[4] ? 4 : p->vec[3] ? 3 : p->vec[2] ? 2 : 0;

	*vec = ver ? p->vec[ver] : NULL, *score = ver ? p->score[ver] : -1;
	*alt = ver == 4 && p->vec[3] ? p->vec[3] : NULL, *alt_score = *alt ? p->score[3] : -1;
}

/* Best severity of an OSV record: computed from a CVSS vector, else a
 * rating the source states (database_specific.severity, GHSA style). */
static void record_severity(const cJSON *rec, const char **sev, double *score, const char **vector, const char **alt,
			    double *alt_score)
{
	const cJSON *s, *ds;
	struct cvss_pick pick = { 0 };

	*sev = NULL;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rec, "severity"))
	{
		const char *t = jstr(s, "type"), *v = jstr(s, "score");

		if (t && v && strncmp(t, "CVSS_V", 6) == 0)
			cvss_pick_add(&pick, v);
	}
	cvss_pick_choose(&pick, vector, score, alt, alt_score);
	if (*vector)
		*sev = severity_name(cvss_rating(*vector, *score));
	if (!*sev) {
		ds = cJSON_GetObjectItemCaseSensitive(rec, "database_specific");
		const char *t = jstr(ds, "severity");
		int p = t ? severity_parse(t) : -1;

		if (p > 0)
			*sev = severity_name((enum severity)p);
	}
}

/* PEP 503: lower case, each run of "-", "_" and "." one "-". False when it
 * does not fit. */
static bool pep503_name(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *c = in; *c; c++) {
		bool sep = *c == '-' || *c == '_' || *c == '.';

		if (n + 2 > cap)
			return false;
		if (sep && n && out[n - 1] == '-')
			continue;
		out[n++] = sep ? '-' : (char)tolower((unsigned char)*c);
	}
	out[n] = 0;
	return true;
}

static int import_osv(struct builder *b, const char *json, size_t len, const char *where, struct err *e)
{
	cJSON *rec = cJSON_ParseWithLength(json, len);
	const char *id, *sev, *vector, *summary, *alt;
	const cJSON *aff, *al;
	char *aliases = NULL;
	double score, alt_score;
	int r = -1;

	if (!rec || !cJSON_IsObject(rec) || !(id = jstr(rec, "id")) || !*id || strlen(id) > 256) {
		log_debug("%s: not an OSV record, skipped", where);
		b->st->rejected++;
		cJSON_Delete(rec);
		return 0;
	}
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "withdrawn"))) {
		b->st->withdrawn++;
		cJSON_Delete(rec);
		return 0;
	}
	aff = cJSON_GetObjectItemCaseSensitive(rec, "affected");
	if (aff && !cJSON_IsArray(aff)) {
		b->st->rejected++;
		cJSON_Delete(rec);
		return 0;
	}
	record_severity(rec, &sev, &score, &vector, &alt, &alt_score);
	summary = jstr(rec, "summary");
	if (!summary)
		summary = jstr(rec, "details");
	al = cJSON_GetObjectItemCaseSensitive(rec, "aliases");
	aliases = cJSON_IsArray(al) ? cJSON_PrintUnformatted(al) : NULL;
	sqlite3_bind_text(b->del_aff, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->del_alias, 1, id, -1, SQLITE_STATIC);
	if (step_done(b, b->del_aff, e) < 0 || step_done(b, b->del_alias, e) < 0)
		goto out;
	sqlite3_bind_text(b->ins_vuln, 1, id, -1, SQLITE_STATIC);
	if (summary)
		sqlite3_bind_text(b->ins_vuln, 2, summary, (int)strnlen(summary, 1000), SQLITE_STATIC);
	sqlite3_bind_text(b->ins_vuln, 3, aliases ? aliases : "[]", -1, SQLITE_STATIC);
	if (sev)
		sqlite3_bind_text(b->ins_vuln, 4, sev, -1, SQLITE_STATIC);
	if (score >= 0)
		sqlite3_bind_double(b->ins_vuln, 5, score);
	if (vector)
		sqlite3_bind_text(b->ins_vuln, 6, vector, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_vuln, 7, sev ? "record" : NULL, -1, SQLITE_STATIC);
	if (jstr(rec, "modified"))
		sqlite3_bind_text(b->ins_vuln, 8, jstr(rec, "modified"), -1, SQLITE_STATIC);
	if (alt) {
		sqlite3_bind_text(b->ins_vuln, 9, alt, -1, SQLITE_STATIC);
		sqlite3_bind_double(b->ins_vuln, 10, alt_score);
	}
	if (step_done(b, b->ins_vuln, e) < 0)
		goto out;
	/* the id itself is an alias too, so NVD enrichment finds CVE-named records */
	if (insert_alias(b, id, id, e) < 0)
		goto out;
	{
		const cJSON *a;

		cJSON_ArrayForEach(a, al)
		{
			if (cJSON_IsString(a) && insert_alias(b, a->valuestring, id, e) < 0)
				goto out;
		}
	}
	{
		const cJSON *a;

		cJSON_ArrayForEach(a, aff)
		{
			const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(a, "package");
			const char *eco = jstr(pkg, "ecosystem"), *name = jstr(pkg, "name"), *asev = NULL;
			const cJSON *ranges = cJSON_GetObjectItemCaseSensitive(a, "ranges");
			const cJSON *versions = cJSON_GetObjectItemCaseSensitive(a, "versions");
			char *rj = NULL, *vj = NULL, pyname[512];
			int rc;

			if (!eco || !name)
				continue;
			asev = jstr(cJSON_GetObjectItemCaseSensitive(a, "ecosystem_specific"), "severity");
			if (!asev)
				asev = jstr(cJSON_GetObjectItemCaseSensitive(a, "database_specific"), "severity");
			if (asev && severity_parse(asev) <= 0)
				asev = NULL;
			if (strcmp(eco, "PyPI") == 0 && pep503_name(name, pyname, sizeof(pyname)))
				name = pyname; /* the inventory's names are normalised the same way */
			rj = cJSON_IsArray(ranges) ? cJSON_PrintUnformatted(ranges) : NULL;
			vj = cJSON_IsArray(versions) ? cJSON_PrintUnformatted(versions) : NULL;
			rc = insert_affected(b, id, eco, name, rj, vj,
					     asev ? severity_name((enum severity)severity_parse(asev)) : NULL, e);
			free(rj);
			free(vj);
			if (rc < 0)
				goto out;
			b->st->affected++;
		}
	}
	b->st->records++;
	r = 0;
out:
	free(aliases);
	cJSON_Delete(rec);
	return r;
}

static int import_zip(struct builder *b, const char *path, struct err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	struct buf rec = BUF_INIT;
	char *chunk = malloc(65536);
	int r = -1, rc;

	if (!a || !chunk) {
		err_oom(e);
		goto out;
	}
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		err_archive(e, ERR_INPUT, a, "%s", path);
		goto out;
	}
	while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		bool big = false;
		la_ssize_t n;

		if (archive_entry_filetype(ent) != AE_IFREG || !name || !str_ends(name, ".json"))
			continue;
		buf_reset(&rec);
		/* read in chunks under a cap: a zip bomb stops at VDB_RECORD_MAX */
		while ((n = archive_read_data(a, chunk, 65536)) > 0) {
			if (rec.len + (size_t)n > VDB_RECORD_MAX) {
				big = true;
				break;
			}
			if (buf_add(&rec, chunk, (size_t)n, e) < 0)
				goto out;
		}
		if (n < 0) {
			err_archive(e, ERR_INPUT, a, "%s: %s", path, name);
			goto out;
		}
		if (big) {
			log_warn("%s: %s: record larger than %u bytes, skipped", path, name, VDB_RECORD_MAX);
			b->st->rejected++;
			continue;
		}
		if (import_osv(b, rec.data, rec.len, name, e) < 0)
			goto out;
	}
	if (rc != ARCHIVE_EOF) {
		err_archive(e, ERR_INPUT, a, "%s", path);
		goto out;
	}
	r = 0;
out:
	buf_free(&rec);
	free(chunk);
	if (a)
		archive_read_free(a);
	return r;
}

static int import_dir(struct builder *b, const char *dir, int depth, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return err_errno(e, ERR_INPUT, "%s", dir);
	while (r == 0 && (de = readdir(d))) {
		char *p;
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		p = fs_join(dir, de->d_name);
		if (!p) {
			r = err_oom(e);
			break;
		}
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode) && depth < 8) {
			r = import_dir(b, p, depth + 1, e);
		} else if (S_ISREG(sb.st_mode) && str_ends(de->d_name, ".json")) {
			struct buf f = BUF_INIT;
			struct err e2 = ERR_INIT;

			if (fs_read_file(p, &f, VDB_RECORD_MAX, &e2) < 0) {
				log_warn("%s: %s, skipped", p, e2.msg);
				b->st->rejected++;
			} else {
				r = import_osv(b, f.data, f.len, p, e);
			}
			buf_free(&f);
		}
		free(p);
	}
	closedir(d);
	return r;
}

/* Alpine secdb: packages[].pkg.{name, secfixes: {version: [ids]}} keyed by
 * origin package; fixed version "0" means never affected. */
static int import_secdb(struct builder *b, const char *path, struct err *e)
{
	struct buf f = BUF_INIT;
	cJSON *doc = NULL;
	const cJSON *p;
	const char *dv;
	char eco[64];
	int r = -1;

	if (fs_read_file(path, &f, 256u << 20, e) < 0)
		return err_prefix(e, "secdb");
	doc = cJSON_ParseWithLength(f.data, f.len);
	if (!doc) {
		err_json(e, f.data, f.len, "%s", path);
		goto out;
	}
	dv = jstr(doc, "distroversion");
	if (!dv || dv[0] != 'v' || strlen(dv) > 16) {
		err_set(e, ERR_INPUT, "%s: not an Alpine secdb (no distroversion)", path);
		goto out;
	}
	snprintf(eco, sizeof(eco), "Alpine:%s", dv);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "packages"))
	{
		const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(p, "pkg"), *fx;
		const char *name = jstr(pkg, "name");

		if (!name)
			continue;
		cJSON_ArrayForEach(fx, cJSON_GetObjectItemCaseSensitive(pkg, "secfixes"))
		{
			const cJSON *idv;
			const char *ver = fx->string;

			if (!ver || strcmp(ver, "0") == 0)
				continue;
			cJSON_ArrayForEach(idv, fx)
			{
				char id[128], ranges[512];
				size_t n;

				if (!cJSON_IsString(idv))
					continue;
				n = strcspn(idv->valuestring, " \t");
				if (!n || n >= sizeof(id))
					continue;
				memcpy(id, idv->valuestring, n), id[n] = 0;
				snprintf(ranges, sizeof(ranges),
					 "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"%.200s\"}]}]",
					 ver);
				sqlite3_bind_text(b->ins_vuln, 1, id, -1, SQLITE_STATIC);
				sqlite3_bind_text(b->ins_vuln, 3, "[]", -1, SQLITE_STATIC);
				if (step_done(b, b->ins_vuln, e) < 0 || insert_alias(b, id, id, e) < 0 ||
				    insert_affected(b, id, eco, name, ranges, NULL, NULL, e) < 0)
					goto out;
				b->st->secdb++;
				b->st->affected++;
			}
		}
	}
	r = 0;
out:
	cJSON_Delete(doc);
	buf_free(&f);
	return r;
}

/* NVD CVE JSON 2.0: vulnerabilities[].cve.{id, metrics}. */
static int import_nvd(struct builder *b, const char *path, struct err *e)
{
	/* the same rule as for OSV records: v4.0, else v3, else v2 decides */
	static const char *const order[] = { "cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2" };
	struct buf f = BUF_INIT;
	cJSON *doc = NULL;
	const cJSON *v;
	int r = -1;

	if (fs_read_file(path, &f, 512u << 20, e) < 0)
		return err_prefix(e, "nvd");
	doc = cJSON_ParseWithLength(f.data, f.len);
	if (!doc || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "vulnerabilities"))) {
		err_set(e, ERR_INPUT, "%s: not an NVD CVE JSON 2.0 feed", path);
		goto out;
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(doc, "vulnerabilities"))
	{
		const cJSON *cve = cJSON_GetObjectItemCaseSensitive(v, "cve");
		const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(cve, "metrics");
		const char *id = jstr(cve, "id");

		if (!id)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
			const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(metrics, order[i]), 0);
			const cJSON *data = cJSON_GetObjectItemCaseSensitive(m, "cvssData");
			const char *vec = jstr(data, "vectorString"), *sev = jstr(data, "baseSeverity");
			const cJSON *bs = cJSON_GetObjectItemCaseSensitive(data, "baseScore");
			double score = cJSON_IsNumber(bs) ? bs->valuedouble : -1;
			struct err e2 = ERR_INIT;

			if (!data)
				continue;
			if (!sev)
				sev = jstr(m, "baseSeverity"); /* v2 keeps it outside cvssData */
			if (vec && cvss_score(vec, &score, &e2) == 0)
				sev = severity_name(cvss_rating(vec, score));
			if (!sev || severity_parse(sev) < 0)
				continue;
			sqlite3_bind_text(b->ins_nvd, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(b->ins_nvd, 2, severity_name((enum severity)severity_parse(sev)), -1,
					  SQLITE_STATIC);
			if (score >= 0)
				sqlite3_bind_double(b->ins_nvd, 3, score);
			if (vec)
				sqlite3_bind_text(b->ins_nvd, 4, vec, -1, SQLITE_STATIC);
			/* a deciding v4.0 vector keeps the v3 one as the alternative */
			for (size_t j = i + 1; vec && cvss_version(vec) == 4 && j < ARRAY_SIZE(order); j++) {
				const cJSON *m3 =
					cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(metrics, order[j]), 0);
				const char *v3 = jstr(cJSON_GetObjectItemCaseSensitive(m3, "cvssData"), "vectorString");
				double s3;

				if (v3 && cvss_version(v3) == 3 && cvss_score(v3, &s3, &e2) == 0) {
					sqlite3_bind_text(b->ins_nvd, 5, v3, -1, SQLITE_STATIC);
					sqlite3_bind_double(b->ins_nvd, 6, s3);
					break;
				}
			}
			if (step_done(b, b->ins_nvd, e) < 0)
				goto out;
			b->st->nvd++;
			break;
		}
	}
	r = 0;
out:
	cJSON_Delete(doc);
	buf_free(&f);
	return r;
}

static int set_meta(sqlite3 *db, const char *k, const char *v, struct err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (prep(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, v, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : err_sqlite(e, db, ERR_INTERNAL, "database meta");
}

static void add_source(struct builder *b, const char *kind, const char *path)
{
	cJSON *o = cJSON_CreateObject();
	const char *base = strrchr(path, '/');

	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "name", base ? base + 1 : path);
	cJSON_AddItemToArray(b->sources, o);
}

int vdb_build(const char *out_path, const struct vdb_build_opts *o, struct vdb_stats *st, struct err *e)
{
	struct builder b = { 0 };
	char *tmp = NULL, *txt = NULL;
	char now[32], buf[64];
	int r = -1;

	memset(st, 0, sizeof(*st));
	/* The database is renamed into place: never over a device or a pipe. */
	{
		struct stat ost;

		if (stat(out_path, &ost) == 0 && !S_ISREG(ost.st_mode))
			return err_set(e, ERR_USAGE, "%s: not a regular file (the database is written as a file)",
				       out_path);
	}
	b.st = st;
	b.sources = cJSON_CreateArray();
	tmp = xasprintf_e(e, "%s.tmp.%d", out_path, (int)getpid());
	if (!tmp || !b.sources)
		goto out;
	unlink(tmp);
	if (sqlite3_open_v2(tmp, &b.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		err_sqlite(e, b.db, ERR_INPUT, tmp);
		goto out;
	}
	if (exec(b.db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16000;", e) < 0 ||
	    exec(b.db, schema_sql, e) < 0 || exec(b.db, "BEGIN", e) < 0)
		goto out;
	if (prep(b.db, "INSERT OR REPLACE INTO vulns VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", &b.ins_vuln, e) < 0 ||
	    prep(b.db, "DELETE FROM affected WHERE id = ?", &b.del_aff, e) < 0 ||
	    prep(b.db, "DELETE FROM aliases WHERE id = ?", &b.del_alias, e) < 0 ||
	    prep(b.db, "INSERT INTO aliases VALUES(?, ?)", &b.ins_alias, e) < 0 ||
	    prep(b.db, "INSERT INTO affected VALUES(?1,?2,?3,?4,?5,?6)", &b.ins_aff, e) < 0 ||
	    prep(b.db, "INSERT OR REPLACE INTO nvd VALUES(?1,?2,?3,?4,?5,?6)", &b.ins_nvd, e) < 0)
		goto out;
	for (size_t i = 0; i < o->n_osv; i++) {
		struct stat sb;
		int rc;

		if (stat(o->osv[i], &sb) < 0) {
			err_errno(e, ERR_INPUT, "%s", o->osv[i]);
			goto out;
		}
		rc = S_ISDIR(sb.st_mode) ? import_dir(&b, o->osv[i], 0, e) : import_zip(&b, o->osv[i], e);
		if (rc < 0)
			goto out;
		add_source(&b, "osv", o->osv[i]);
	}
	/* secdb rows must not replace OSV records of the same CVE id */
	sqlite3_finalize(b.ins_vuln);
	if (prep(b.db, "INSERT OR IGNORE INTO vulns(id, aliases) VALUES(?1, ?3)", &b.ins_vuln, e) < 0)
		goto out;
	for (size_t i = 0; i < o->n_secdb; i++) {
		if (import_secdb(&b, o->secdb[i], e) < 0)
			goto out;
		add_source(&b, "alpine-secdb", o->secdb[i]);
	}
	for (size_t i = 0; i < o->n_nvd; i++) {
		if (import_nvd(&b, o->nvd[i], e) < 0)
			goto out;
		add_source(&b, "nvd", o->nvd[i]);
	}
	if (exec(b.db, "CREATE INDEX affected_pkg ON affected(ecosystem, name);"
		       "CREATE INDEX aliases_alias ON aliases(alias);", e) < 0)
		goto out;
	/* enrichment: records without a rating take NVD's through a CVE alias */
	if (exec(b.db,
		 "UPDATE vulns SET (severity, score, vector, sev_source, alt_vector, alt_score) ="
		 " (SELECT n.severity, n.score, n.vector, 'nvd', n.alt_vector, n.alt_score"
		 " FROM aliases a JOIN nvd n ON n.cve = a.alias WHERE a.id = vulns.id LIMIT 1) "
		 "WHERE severity IS NULL AND EXISTS (SELECT 1 FROM aliases a JOIN nvd n ON n.cve = a.alias WHERE a.id = vulns.id)",
		 e) < 0)
		goto out;
	st->enriched = sqlite3_changes(b.db);
	time_rfc3339((int64_t)time(NULL), now);
	snprintf(buf, sizeof(buf), "%d", VDB_SCHEMA_VERSION);
	txt = cJSON_PrintUnformatted(b.sources);
	if (set_meta(b.db, "schema_version", buf, e) < 0 || set_meta(b.db, "built", now, e) < 0 ||
	    set_meta(b.db, "sources", txt ? txt : "[]", e) < 0)
		goto out;
	free(txt);
	txt = xasprintf_e(e,
			  "{\"records\":%ld,\"withdrawn\":%ld,\"rejected\":%ld,\"affected\":%ld,\"secdb\":%ld,"
			  "\"nvd\":%ld,\"enriched\":%ld}",
			  st->records, st->withdrawn, st->rejected, st->affected, st->secdb, st->nvd, st->enriched);
	if (!txt || set_meta(b.db, "counts", txt, e) < 0 || exec(b.db, "COMMIT", e) < 0)
		goto out;
	sqlite3_finalize(b.ins_vuln), sqlite3_finalize(b.del_aff), sqlite3_finalize(b.del_alias);
	sqlite3_finalize(b.ins_alias), sqlite3_finalize(b.ins_aff), sqlite3_finalize(b.ins_nvd);
	b.ins_vuln = b.del_aff = b.del_alias = b.ins_alias = b.ins_aff = b.ins_nvd = NULL;
	if (sqlite3_close(b.db) != SQLITE_OK) {
		err_set(e, ERR_INTERNAL, "database close failed");
		b.db = NULL;
		goto out;
	}
	b.db = NULL;
	/* synchronous=OFF above: durable here, before the name is given */
	{
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) < 0) {
			err_errno(e, ERR_INTERNAL, "write %s", tmp);
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	if (rename(tmp, out_path) < 0) {
		err_errno(e, ERR_INTERNAL, "rename %s", out_path);
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(b.ins_vuln), sqlite3_finalize(b.del_aff), sqlite3_finalize(b.del_alias);
	sqlite3_finalize(b.ins_alias), sqlite3_finalize(b.ins_aff), sqlite3_finalize(b.ins_nvd);
	if (b.db)
		sqlite3_close(b.db);
	if (r < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(txt);
	cJSON_Delete(b.sources);
	return r;
}

int vdb_open(struct vdb **out, const char *path, struct err *e)
{
	struct vdb *d = calloc(1, sizeof(*d));
	sqlite3_stmt *s = NULL;
	int ver = -1;

	*out = NULL;
	if (!d)
		return err_oom(e);
	if (access(path, R_OK) < 0) {
		free(d);
		return err_errno(e, ERR_INPUT, "database %s", path);
	}
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto bad;
	/* A database can come from a registry (db pull); bosun's schema has
	 * tables and indexes only. */
	sqlite_untrusted(d->db);
	if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s, NULL) != SQLITE_OK)
		goto bad;
	if (sqlite3_step(s) == SQLITE_ROW)
		ver = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (ver != VDB_SCHEMA_VERSION) {
		err_set(e, ERR_INPUT, "database %s: schema version %d, this bosun reads %d (rebuild or update it)", path,
			ver, VDB_SCHEMA_VERSION);
		goto fail;
	}
	if (sqlite3_prepare_v2(d->db,
			       "SELECT v.id, v.summary, v.aliases, COALESCE(a.severity, v.severity), v.vector, v.score,"
			       " a.ecosystem, a.name, a.ranges, a.versions,"
			       " CASE WHEN a.severity IS NULL THEN v.alt_vector END, v.alt_score"
			       " FROM affected a JOIN vulns v ON v.id = a.id"
			       " WHERE a.ecosystem = ? AND a.name = ? ORDER BY v.id",
			       -1, &d->q, NULL) != SQLITE_OK)
		goto bad;
	*out = d;
	return 0;
bad:
	err_set(e, ERR_INPUT, "database %s: not a bosun vulnerability database (%s)", path,
		d->db ? sqlite3_errmsg(d->db) : "cannot open");
fail:
	sqlite3_finalize(s);
	sqlite3_close(d->db);
	free(d);
	return -1;
}

void vdb_close(struct vdb *d)
{
	if (!d)
		return;
	sqlite3_finalize(d->q);
	sqlite3_close(d->db);
	free(d);
}

char *vdb_meta(struct vdb *d, const char *key)
{
	sqlite3_stmt *s;
	char *v = NULL;

	if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key = ?", -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		v = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v;
}

int64_t vdb_built_time(struct vdb *d)
{
	char *b = vdb_meta(d, "built");
	struct tm tm = { 0 };
	int64_t t = -1;

	if (b && strptime(b, "%Y-%m-%dT%H:%M:%SZ", &tm))
		t = (int64_t)timegm(&tm);
	free(b);
	return t;
}

bool vdb_too_old(struct vdb *d, long long max_age)
{
	int64_t built;

	if (max_age <= 0)
		return false;
	built = vdb_built_time(d);
	return built < 0 || (long long)time(NULL) - built > max_age;
}

char *vdb_ecosystems(struct vdb *d)
{
	sqlite3_stmt *s;
	cJSON *a = cJSON_CreateArray();
	char *r;

	if (sqlite3_prepare_v2(d->db, "SELECT DISTINCT ecosystem FROM affected ORDER BY 1", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW)
			cJSON_AddItemToArray(a, cJSON_CreateString((const char *)sqlite3_column_text(s, 0)));
		sqlite3_finalize(s);
	}
	r = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return r;
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int vdb_query(struct vdb *d, const char *ecosystem, const char *name, vdb_cb cb, void *ctx, struct err *e)
{
	int rc, r = 0;

	sqlite3_bind_text(d->q, 1, ecosystem, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(d->q, 2, name, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(d->q)) == SQLITE_ROW) {
		struct vdb_adv a = { col(d->q, 0), col(d->q, 1), col(d->q, 2), col(d->q, 3), col(d->q, 4),
				     sqlite3_column_type(d->q, 5) == SQLITE_NULL ? -1 : sqlite3_column_double(d->q, 5),
				     col(d->q, 6), col(d->q, 7), col(d->q, 8), col(d->q, 9), col(d->q, 10),
				     sqlite3_column_type(d->q, 11) == SQLITE_NULL ? -1 : sqlite3_column_double(d->q, 11) };

		if (cb(ctx, &a, e) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = err_sqlite(e, d->db, ERR_INPUT, "database query");
	sqlite3_reset(d->q);
	sqlite3_clear_bindings(d->q);
	return r;
}
