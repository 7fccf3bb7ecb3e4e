/* The policy gate, as a table: each row is a policy over the same findings
 * and the findings it must fail and report. Covers the thresholds, --fail-on
 * none (never fails, for scan and ship alike), --unknown-as, --severity,
 * --ignore-unfixed, the ignore file (with expiry) and OpenVEX. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "scan/findings.h"
#include "test.h"

static char tmp[256];

/* Findings: id, severity, fixed version ("" unfixed), aliases. */
static const struct {
	const char *id;
	enum severity sev;
	const char *fixed, *aliases;
} rows[] = {
    {"CVE-1-CRIT", SEV_CRITICAL, "1.1", "[]"}, {"CVE-2-HIGH", SEV_HIGH, "", "[\"GHSA-aaaa\"]"},
    {"CVE-3-MED", SEV_MEDIUM, "2.0", "[]"},    {"CVE-4-LOW", SEV_LOW, "", "[]"},
    {"CVE-5-UNK", SEV_UNKNOWN, "3.0", "[]"},
};
#define NF (sizeof(rows) / sizeof(rows[0]))

static void fill(struct scan_result *r, struct finding *f)
{
	memset(r, 0, sizeof(*r));
	memset(f, 0, sizeof(*f) * NF);
	for (size_t i = 0; i < NF; i++) {
		f[i].id = (char *)rows[i].id;
		f[i].severity = rows[i].sev;
		f[i].fixed = (char *)rows[i].fixed;
		f[i].aliases = (char *)rows[i].aliases;
		f[i].score = -1;
	}
	r->f = f;
	r->n = NF;
}

/* "CFHML-U" style masks: one letter per finding in row order, '-' for none. */
static void mask(const struct finding *f, bool failing, char out[NF + 1])
{
	for (size_t i = 0; i < NF; i++)
		out[i] = (failing ? f[i].failing : f[i].reported) ? "CHMLU"[i] : '-';
	out[NF] = 0;
}

static char *write_tmp(const char *name, const char *text)
{
	static char p[512];
	struct err e = ERR_INIT;

	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	if (fs_write_atomic(p, text, strlen(text), 0644, &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
	return p;
}

static int gate(const char *s)
{
	int v = -99;

	return policy_parse_gate(s, &v) < 0 ? -99 : v;
}

TEST(gate_parse)
{
	unsigned m = 0;

	CHECK_INT(gate("none"), -1);
	CHECK_INT(gate("NONE"), -1);
	CHECK_INT(gate("critical"), SEV_CRITICAL);
	CHECK_INT(gate("HIGH"), SEV_HIGH);
	CHECK_INT(gate("moderate"), SEV_MEDIUM);
	CHECK_INT(gate("low"), SEV_LOW);
	CHECK_INT(gate("severe"), -99);
	CHECK_INT(gate(""), -99);
	CHECK(policy_parse_severities("HIGH,critical", &m) == 0);
	CHECK_INT(m, (1u << SEV_HIGH) | (1u << SEV_CRITICAL));
	CHECK(policy_parse_severities("HIGH,bogus", &m) < 0);
	CHECK(policy_parse_severities(",", &m) < 0);
}

TEST(gate_table)
{
	char ign_valid[600], vex[600];
	const char *ign, *vexp;
	const char *vexlist[1];
	struct {
		const char *name;
		int fail_on, unknown_as;
		unsigned severities;
		bool unfixed;
		int with_ignore, with_vex;
		const char *failing, *reported;
	} t[] = {
	    {"no gate", -1, SEV_UNKNOWN, 0, false, 0, 0, "-----", "CHMLU"},
	    {"none never fails", -1, SEV_CRITICAL, 0, false, 0, 0, "-----", "CHMLU"},
	    {"critical", SEV_CRITICAL, SEV_UNKNOWN, 0, false, 0, 0, "C----", "CHMLU"},
	    {"high", SEV_HIGH, SEV_UNKNOWN, 0, false, 0, 0, "CH---", "CHMLU"},
	    {"medium", SEV_MEDIUM, SEV_UNKNOWN, 0, false, 0, 0, "CHM--", "CHMLU"},
	    {"low: unknown does not fail", SEV_LOW, SEV_UNKNOWN, 0, false, 0, 0, "CHML-", "CHMLU"},
	    {"unknown-as high", SEV_HIGH, SEV_HIGH, 0, false, 0, 0, "CH--U", "CHMLU"},
	    {"unknown-as low under high", SEV_HIGH, SEV_LOW, 0, false, 0, 0, "CH---", "CHMLU"},
	    {"severity filter", SEV_LOW, SEV_UNKNOWN, (1u << SEV_MEDIUM) | (1u << SEV_LOW), false,
	     0, 0, "--ML-", "--ML-"},
	    {"ignore-unfixed", SEV_LOW, SEV_HIGH, 0, true, 0, 0, "C-M-U", "C-M-U"},
	    {"ignore file by id and alias", SEV_LOW, SEV_UNKNOWN, 0, false, 1, 0, "--ML-", "--MLU"},
	    {"vex not_affected / fixed", SEV_LOW, SEV_UNKNOWN, 0, false, 0, 1, "C--L-", "C--LU"},
	    {"ignore and vex together", SEV_LOW, SEV_UNKNOWN, 0, false, 1, 1, "---L-", "---LU"},
	};

	/* CVE-1 forever, GHSA-aaaa (CVE-2's alias) until 2999, CVE-4 expired. */
	snprintf(ign_valid, sizeof(ign_valid),
		 "# comment\nCVE-1-CRIT\nGHSA-aaaa exp:2999-12-31\nCVE-4-LOW exp:2000-01-01\n");
	ign = strdup(write_tmp("ignore", ign_valid));
	/* CVE-2 not_affected (by alias), CVE-3 fixed, CVE-1 under_investigation (no effect). */
	snprintf(
	    vex, sizeof(vex),
	    "{\"@context\":\"https://openvex.dev/ns/v0.2.0\",\"statements\":["
	    "{\"vulnerability\":{\"name\":\"GHSA-aaaa\"},\"status\":\"not_affected\","
	    "\"justification\":\"vulnerable_code_not_present\"},"
	    "{\"vulnerability\":\"CVE-3-MED\",\"status\":\"fixed\"},"
	    "{\"vulnerability\":{\"name\":\"CVE-1-CRIT\"},\"status\":\"under_investigation\"}]}");
	vexp = strdup(write_tmp("vex.json", vex));
	vexlist[0] = vexp;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct finding f[NF];
		struct scan_result r;
		struct policy p = {t[i].severities,
				   t[i].fail_on,
				   t[i].unfixed,
				   t[i].unknown_as,
				   t[i].with_ignore ? ign : NULL,
				   vexlist,
				   t[i].with_vex ? 1 : 0,
				   20000 /* 2024-10-04 */, CVSS_PREFER_V4};
		struct err e = ERR_INIT;
		char fm[NF + 1], rm[NF + 1];
		int n, want = 0;

		fill(&r, f);
		n = scan_policy(&r, &p, &e);
		mask(f, true, fm);
		mask(f, false, rm);
		for (const char *c = t[i].failing; *c; c++)
			want += *c != '-';
		if (n != want || strcmp(fm, t[i].failing) || strcmp(rm, t[i].reported)) {
			fprintf(stderr,
				"%s: failing %s (want %s), reported %s (want %s), n %d: %s\n",
				t[i].name, fm, t[i].failing, rm, t[i].reported, n, e.msg);
			CHECK(0);
		}
		if (t[i].with_ignore)
			CHECK(r.warnings && strstr(r.warnings, "CVE-4-LOW") &&
			      strstr(r.warnings, "expired"));
		for (size_t k = 0; k < NF; k++)
			free(f[k].suppress_reason);
		free(r.warnings);
	}
	free((char *)ign);
	free((char *)vexp);
}

TEST(gate_bad_files)
{
	struct finding f[NF];
	struct scan_result r;
	struct err e = ERR_INIT;
	const char *v[1];
	char *bad_ign = strdup(write_tmp("bad-ignore", "CVE-1-CRIT exp:31-12-2099\n"));
	struct policy p = {0, SEV_LOW, false, SEV_UNKNOWN, bad_ign, NULL, 0, 20000, CVSS_PREFER_V4};

	fill(&r, f);
	CHECK(scan_policy(&r, &p, &e) < 0);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "line 1") && strstr(e.msg, "bad expiry"));
	v[0] = write_tmp("bad-vex.json", "{\"statements\": 3}");
	p.ignore_file = NULL, p.vex = v, p.n_vex = 1;
	err_clear(&e);
	fill(&r, f);
	CHECK(scan_policy(&r, &p, &e) < 0);
	CHECK_INT(e.code, ERR_INPUT);
	CHECK(strstr(e.msg, "not an OpenVEX document"));
	free(bad_ign);
	free(r.warnings);
}

int main(void)
{
	struct err e = ERR_INIT;

	snprintf(tmp, sizeof(tmp), "%s/bosun-policy-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 1;
	RUN(gate_parse);
	RUN(gate_table);
	RUN(gate_bad_files);
	fs_rm_rf(tmp, &e);
	return test_done();
}
