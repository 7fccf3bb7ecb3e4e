/* Credential lookup: --creds, environment, $REGISTRY_AUTH_FILE, docker
 * config.json (auths, credHelpers, credsStore) with a fake
 * docker-credential-test helper written into a temporary PATH entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"
#include "registry/internal.h"
#include "test.h"

static char *tmp_root;

static void write_file(const char *name, const char *text, int mode)
{
	struct err e = ERR_INIT;
	char *p = fs_join(tmp_root, name), *slash = strrchr(p, '/');

	*slash = 0;
	fs_mkdir_p(p, 0755, &e);
	*slash = '/';
	if (fs_write_atomic(p, text, strlen(text), mode, &e) < 0)
		fprintf(stderr, "write %s: %s\n", p, e.msg);
	free(p);
}

static void use_config(const char *text)
{
	char *dir = fs_join(tmp_root, "docker");

	write_file("docker/config.json", text, 0600);
	setenv("DOCKER_CONFIG", dir, 1);
	free(dir);
}

/* Looks up registry; returns "user|pass|identity" (fields empty when
 * absent) or "none", or "error:<code>". Static buffer. */
static const char *lookup(const char *registry, const char *opt)
{
	static char out[512];
	struct reg_creds cr;
	struct err e = ERR_INIT;
	bool found = false;

	if (creds_lookup(registry, opt, &cr, &found, &e) < 0) {
		snprintf(out, sizeof(out), "error:%d:%s", e.code, e.msg);
		return out;
	}
	if (!found) {
		creds_free(&cr);
		return "none";
	}
	snprintf(out, sizeof(out), "%s|%s|%s", cr.user ? cr.user : "", cr.pass ? cr.pass : "",
		 cr.identity_token ? cr.identity_token : "");
	creds_free(&cr);
	return out;
}

static const char config_basic[] =
    "{\"auths\":{"
    "\"https://index.docker.io/v1/\":{\"auth\":\"dTE6cDE=\"}," /* u1:p1 */
    "\"http://localhost:5000/v2/\":{\"username\":\"u2\",\"password\":\"p2:x\"},"
    "\"myreg.azurecr.io\":{\"identitytoken\":\"refresh-rt\"},"
    "\"colon.example.com\":{\"auth\":\"dTM6cGE6c3M=\"}," /* u3:pa:ss */
    "\"empty.example.com\":{}"
    "},"
    "\"credHelpers\":{\"https://helped.example.com\":\"test\",\"tok.example.com\":\"test\","
    "\"bad.example.com\":\"../evil\",\"missing.example.com\":\"nosuchhelper\"}}";

TEST(config_auths)
{
	use_config(config_basic);
	CHECK_STR(lookup("docker.io", NULL), "u1|p1|");
	CHECK_STR(lookup("index.docker.io", NULL), "u1|p1|");
	CHECK_STR(lookup("localhost:5000", NULL), "u2|p2:x|");
	CHECK_STR(lookup("MyReg.azurecr.io", NULL), "||refresh-rt");
	CHECK_STR(lookup("colon.example.com", NULL), "u3|pa:ss|");
	CHECK_STR(lookup("empty.example.com", NULL), "none");
	CHECK_STR(lookup("localhost:5001", NULL), "none");
	CHECK_STR(lookup("other.example.com", NULL), "none");
}

TEST(config_helpers)
{
	use_config(config_basic);
	CHECK_STR(lookup("helped.example.com", NULL), "hu|hs|");
	/* Username <token>: the secret is an identity token */
	CHECK_STR(lookup("tok.example.com", NULL), "||helper-refresh");
	/* an invalid helper name is never run; a missing one is skipped */
	CHECK_STR(lookup("bad.example.com", NULL), "none");
	CHECK_STR(lookup("missing.example.com", NULL), "none");
}

TEST(config_store)
{
	/* credsStore answers first; when it knows nothing, auths still count */
	use_config("{\"credsStore\":\"test\",\"auths\":{\"helped.example.com\":{},"
		   "\"plain.example.com\":{\"auth\":\"dTE6cDE=\"}}}");
	CHECK_STR(lookup("helped.example.com", NULL), "hu|hs|");
	CHECK_STR(lookup("docker.io", NULL), "hub|hubsecret|");
	CHECK_STR(lookup("plain.example.com", NULL), "u1|p1|");
	CHECK_STR(lookup("nothing.example.com", NULL), "none");
	/* credHelpers beat credsStore */
	use_config(
	    "{\"credsStore\":\"nosuchhelper\",\"credHelpers\":{\"helped.example.com\":\"test\"}}");
	CHECK_STR(lookup("helped.example.com", NULL), "hu|hs|");
}

TEST(precedence)
{
	use_config(config_basic);
	CHECK_STR(lookup("docker.io", "cli:pw:with:colons"), "cli|pw:with:colons|");
	CHECK_STR(lookup("docker.io", "cli:"), "cli||");
	CHECK(str_starts(lookup("docker.io", "nocolon"), "error:2:"));
	CHECK(str_starts(lookup("docker.io", ":pw"), "error:2:"));

	setenv("BOSUN_USERNAME", "envuser", 1);
	setenv("BOSUN_PASSWORD", "envpass", 1);
	CHECK_STR(lookup("docker.io", NULL), "envuser|envpass|");
	CHECK_STR(lookup("docker.io", "cli:pw"), "cli|pw|");
	unsetenv("BOSUN_PASSWORD");
	CHECK_STR(lookup("docker.io", NULL), "u1|p1|");
	unsetenv("BOSUN_USERNAME");

	/* $REGISTRY_AUTH_FILE (containers auth.json) before docker's config */
	write_file("auth.json", "{\"auths\":{\"docker.io\":{\"auth\":\"cG9kOnBvZHB3\"}}}", 0600);
	{
		char *p = fs_join(tmp_root, "auth.json");

		setenv("REGISTRY_AUTH_FILE", p, 1);
		free(p);
	}
	CHECK_STR(lookup("docker.io", NULL), "pod|podpw|");
	CHECK_STR(lookup("localhost:5000", NULL), "u2|p2:x|"); /* falls through */
	unsetenv("REGISTRY_AUTH_FILE");

	/* no DOCKER_CONFIG: $HOME/.docker/config.json */
	unsetenv("DOCKER_CONFIG");
	write_file("home/.docker/config.json",
		   "{\"auths\":{\"h.example.com\":{\"auth\":\"dTE6cDE=\"}}}", 0600);
	{
		char *h = fs_join(tmp_root, "home");

		setenv("HOME", h, 1);
		free(h);
	}
	CHECK_STR(lookup("h.example.com", NULL), "u1|p1|");
}

TEST(config_errors)
{
	const char *r;

	use_config("{not json");
	r = lookup("docker.io", NULL);
	CHECK(str_starts(r, "error:3:"));
	use_config("{\"auths\":{\"docker.io\":{\"auth\":\"%%%%secret%%%%\"}}}");
	r = lookup("docker.io", NULL);
	CHECK(str_starts(r, "error:3:"));
	CHECK(strstr(r, "secret") == NULL); /* never echo the value */
	use_config("{\"auths\":{\"docker.io\":{\"auth\":\"bm9jb2xvbg==\"}}}"); /* "nocolon" */
	r = lookup("docker.io", NULL);
	CHECK(str_starts(r, "error:3:"));
	CHECK(strstr(r, "nocolon") == NULL);
	/* a missing file is simply no credentials */
	setenv("DOCKER_CONFIG", "/nonexistent/bosun", 1);
	CHECK_STR(lookup("docker.io", NULL), "none");
}

TEST(helper_direct)
{
	struct reg_creds cr;
	struct err e = ERR_INIT;
	bool found = true;

	CHECK_INT(creds_run_helper("test", "helped.example.com", &cr, &found, &e), 0);
	CHECK(found);
	CHECK_STR(cr.user, "hu");
	creds_free(&cr);
	CHECK(cr.user == NULL);
	/* garbage output, non-zero exit, closed stdin: all "not found" */
	CHECK_INT(creds_run_helper("test", "garbage.example.com", &cr, &found, &e), 0);
	CHECK(!found);
	CHECK_INT(creds_run_helper("test", "fail.example.com", &cr, &found, &e), 0);
	CHECK(!found);
	CHECK_INT(creds_run_helper("test", "big.example.com", &cr, &found, &e), 0);
	CHECK(!found);
	CHECK_INT(creds_run_helper("a/b", "x", &cr, &found, &e), 0);
	CHECK(!found);
}

/* The helper protocol: the server on stdin, JSON on stdout. */
static const char helper_script[] =
    "#!/bin/sh\n"
    "[ \"$1\" = get ] || exit 2\n"
    "read -r server || true\n"
    "case \"$server\" in\n"
    "helped.example.com) echo "
    "'{\"ServerURL\":\"helped.example.com\",\"Username\":\"hu\",\"Secret\":\"hs\"}' ;;\n"
    "tok.example.com) echo '{\"Username\":\"<token>\",\"Secret\":\"helper-refresh\"}' ;;\n"
    "https://index.docker.io/v1/) echo '{\"Username\":\"hub\",\"Secret\":\"hubsecret\"}' ;;\n"
    "garbage.example.com) echo 'this is not json' ;;\n"
    "big.example.com) head -c 200000 /dev/zero | tr '\\0' x ;;\n"
    "*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
    "esac\n";

int main(void)
{
	struct err e = ERR_INIT;
	char *bin, *path;
	const char *old = getenv("PATH");

	log_set_level(LOG_ERROR);
	tmp_root = fs_mkdtemp("bosun-test-creds", &e);
	if (!tmp_root) {
		fprintf(stderr, "mkdtemp: %s\n", e.msg);
		return 1;
	}
	write_file("bin/docker-credential-test", helper_script, 0755);
	bin = fs_join(tmp_root, "bin");
	path = xasprintf_e(&e, "%s:%s", bin, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	free(path);
	free(bin);
	unsetenv("BOSUN_USERNAME");
	unsetenv("BOSUN_PASSWORD");
	unsetenv("REGISTRY_AUTH_FILE");

	RUN(config_auths);
	RUN(config_helpers);
	RUN(config_store);
	RUN(config_errors);
	RUN(helper_direct);
	RUN(precedence);

	fs_rm_rf(tmp_root, &e);
	free(tmp_root);
	return test_done();
}
