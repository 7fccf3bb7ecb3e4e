/* Credentials: --creds, BOSUN_USERNAME/BOSUN_PASSWORD, $REGISTRY_AUTH_FILE,
 * docker config.json (credHelpers, credsStore, auths) and the
 * docker-credential-* helper protocol. */
#include "registry/internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/util.h"

extern char **environ;

#define HELPER_OUT_MAX (64 * 1024)
#define HELPER_TIMEOUT_MS 30000
#define CONFIG_MAX (4u << 20)
#define TOKEN_USER "<token>"

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void creds_free(struct reg_creds *cr)
{
	wipe(cr->user);
	wipe(cr->pass);
	wipe(cr->identity_token);
	memset(cr, 0, sizeof(*cr));
}

char *creds_normalize_host(const char *key)
{
	const char *p = key;
	size_t n;
	char *h;

	if (!key)
		return NULL;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	n = strcspn(p, "/ ");
	h = strndup(p, n);
	if (!h)
		return NULL;
	for (char *s = h; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	if (strcmp(h, "index.docker.io") == 0 || strcmp(h, "registry-1.docker.io") == 0 ||
	    strcmp(h, "registry.hub.docker.com") == 0) {
		free(h);
		h = strdup("docker.io");
	}
	return h;
}

/* The server string helpers were given at `docker login` time. */
static const char *helper_server(const char *host)
{
	return strcmp(host, "docker.io") == 0 ? "https://index.docker.io/v1/" : host;
}

static int set_userpass(struct reg_creds *out, const char *user, size_t ulen, const char *pass,
			struct err *e)
{
	out->user = xstrndup_e(user, ulen, e);
	out->pass = out->user ? xstrdup_e(pass, e) : NULL;
	if (!out->pass) {
		creds_free(out);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- helpers */

static bool helper_name_ok(const char *h)
{
	if (!h || !*h || strlen(h) > 64)
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '_' && *h != '.')
			return false;
	return true;
}

/* Write all of p to fd without dying of SIGPIPE when the helper exits early. */
static int write_nosigpipe(int fd, const char *p, size_t n)
{
	sigset_t block, old, pending;
	bool was_pending;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -1;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (rc < 0 && errno == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};

		sigtimedwait(&block, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int creds_run_helper(const char *helper, const char *server, struct reg_creds *out, bool *found,
		     struct err *e)
{
	char prog[96];
	char *argv[3];
	int in[2] = {-1, -1}, outp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	struct buf b = BUF_INIT;
	double deadline;
	int status = 0, rc = 0;
	bool timed_out = false;
	cJSON *js = NULL, *u, *s;

	*found = false;
	memset(out, 0, sizeof(*out));
	if (!helper_name_ok(helper)) {
		log_warn("credential helper name \"%.64s\" is not valid; ignored", helper);
		return 0;
	}
	snprintf(prog, sizeof(prog), "docker-credential-%s", helper);
	argv[0] = prog;
	argv[1] = (char *)"get";
	argv[2] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		rc = err_errno(e, ERR_INTERNAL, "pipe");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	errno = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	if (errno || pid <= 0) {
		log_warn("credential helper %s cannot run: %s", prog, strerror(errno));
		pid = -1;
		goto out;
	}
	write_nosigpipe(in[1], server, strlen(server));
	close(in[1]);
	in[1] = -1;

	deadline = time_now() + HELPER_TIMEOUT_MS / 1000.0;
	for (;;) {
		struct pollfd pfd = {outp[0], POLLIN, 0};
		char chunk[4096];
		int left = (int)((deadline - time_now()) * 1000);
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&pfd, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		r = read(outp[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (b.len + (size_t)r > HELPER_OUT_MAX) {
			log_warn("credential helper %s: output exceeds %d bytes", prog,
				 HELPER_OUT_MAX);
			timed_out = true; /* treat as broken: kill it */
			break;
		}
		if (buf_add(&b, chunk, (size_t)r, e) < 0) {
			rc = -1;
			break;
		}
	}
	/* stdout is closed; the helper still gets until the deadline to exit */
	while (!timed_out) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (w == 0 && time_now() >= deadline)
			timed_out = true;
		else if (w == 0)
			usleep(2000);
	}
	if (timed_out) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	pid = -1;
	if (rc < 0)
		goto out;
	if (timed_out) {
		log_warn("credential helper %s did not answer; ignored", prog);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* helpers report "credentials not found in native keychain" on stdout */
		if (strstr(b.data, "not found"))
			log_debug("credential helper %s: no credentials for %s", prog, server);
		else
			log_warn("credential helper %s failed (status %d); ignored", prog,
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	js = cJSON_ParseWithLength(b.data, b.len);
	u = js ? cJSON_GetObjectItemCaseSensitive(js, "Username") : NULL;
	s = js ? cJSON_GetObjectItemCaseSensitive(js, "Secret") : NULL;
	if (!cJSON_IsString(s) || !s->valuestring[0]) {
		log_warn("credential helper %s: unexpected answer; ignored", prog);
		goto out;
	}
	if (cJSON_IsString(u) && strcmp(u->valuestring, TOKEN_USER) == 0) {
		if (!(out->identity_token = xstrdup_e(s->valuestring, e)))
			rc = -1;
	} else {
		const char *user = cJSON_IsString(u) ? u->valuestring : "";

		rc = set_userpass(out, user, strlen(user), s->valuestring, e);
	}
	if (rc == 0)
		*found = true;
out:
	if (js) {
		s = cJSON_GetObjectItemCaseSensitive(js, "Secret");
		if (cJSON_IsString(s))
			explicit_bzero(s->valuestring, strlen(s->valuestring));
		cJSON_Delete(js);
	}
	if (b.alloc)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	return rc;
}

/* --------------------------------------------------------------- configs */

/* The value of obj's member whose normalised key is host. */
static cJSON *find_host(cJSON *obj, const char *host)
{
	cJSON *it;

	if (!cJSON_IsObject(obj))
		return NULL;
	cJSON_ArrayForEach(it, obj)
	{
		char *k = creds_normalize_host(it->string);
		bool match = k && strcmp(k, host) == 0;

		free(k);
		if (match)
			return it;
	}
	return NULL;
}

static int from_auths_entry(cJSON *ent, struct reg_creds *out, bool *found, const char *path,
			    struct err *e)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(ent, "auth");
	cJSON *u = cJSON_GetObjectItemCaseSensitive(ent, "username");
	cJSON *p = cJSON_GetObjectItemCaseSensitive(ent, "password");
	cJSON *it = cJSON_GetObjectItemCaseSensitive(ent, "identitytoken");

	if (cJSON_IsString(it) && it->valuestring[0]) {
		if (!(out->identity_token = xstrdup_e(it->valuestring, e)))
			return -1;
		*found = true;
		return 0;
	}
	if (cJSON_IsString(a) && a->valuestring[0]) {
		size_t n = strlen(a->valuestring);
		unsigned char *dec = malloc(n * 3 / 4 + 4);
		long dl;
		char *colon;
		int rc;

		if (!dec)
			return err_oom(e);
		dl = base64_decode(a->valuestring, n, dec, false);
		if (dl < 0) {
			free(dec);
			return err_set(e, ERR_INPUT, "%s: \"auth\" is not valid base64", path);
		}
		dec[dl] = 0;
		colon = strchr((char *)dec, ':');
		if (!colon) {
			explicit_bzero(dec, (size_t)dl);
			free(dec);
			return err_set(e, ERR_INPUT, "%s: \"auth\" is not USER:PASSWORD", path);
		}
		rc = set_userpass(out, (char *)dec, (size_t)(colon - (char *)dec), colon + 1, e);
		explicit_bzero(dec, (size_t)dl);
		free(dec);
		if (rc < 0)
			return -1;
		*found = true;
		return 0;
	}
	if (cJSON_IsString(u) && cJSON_IsString(p) && u->valuestring[0]) {
		if (set_userpass(out, u->valuestring, strlen(u->valuestring), p->valuestring, e) <
		    0)
			return -1;
		*found = true;
	}
	return 0;
}

int creds_from_config(const char *path, const char *registry, struct reg_creds *out, bool *found,
		      struct err *e)
{
	struct buf b = BUF_INIT;
	cJSON *js = NULL, *x;
	char *host = NULL;
	int rc = 0;

	*found = false;
	memset(out, 0, sizeof(*out));
	if (!fs_exists(path))
		return 0;
	if (fs_read_file(path, &b, CONFIG_MAX, e) < 0)
		return err_prefix(e, "read credentials");
	if (!(host = creds_normalize_host(registry))) {
		rc = err_oom(e);
		goto out;
	}
	js = cJSON_ParseWithLength(b.data, b.len);
	if (!cJSON_IsObject(js)) {
		rc = err_set(e, ERR_INPUT, "%s: not a valid JSON object", path);
		goto out;
	}
	x = find_host(cJSON_GetObjectItemCaseSensitive(js, "credHelpers"), host);
	if (x && cJSON_IsString(x) &&
	    (rc = creds_run_helper(x->valuestring, helper_server(host), out, found, e)) < 0)
		goto out;
	if (*found)
		goto out;
	x = cJSON_GetObjectItemCaseSensitive(js, "credsStore");
	if (cJSON_IsString(x) && x->valuestring[0] &&
	    (rc = creds_run_helper(x->valuestring, helper_server(host), out, found, e)) < 0)
		goto out;
	if (*found)
		goto out;
	x = find_host(cJSON_GetObjectItemCaseSensitive(js, "auths"), host);
	if (cJSON_IsObject(x))
		rc = from_auths_entry(x, out, found, path, e);
out:
	if (*found)
		log_debug("credentials for %s from %s", host, path);
	cJSON_Delete(js);
	if (b.alloc)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	free(host);
	return rc;
}

int creds_lookup(const char *registry, const char *opt_creds, struct reg_creds *out, bool *found,
		 struct err *e)
{
	const char *u, *p, *dc, *home;
	char *path;
	int rc;

	*found = false;
	memset(out, 0, sizeof(*out));
	if (opt_creds) {
		const char *colon = strchr(opt_creds, ':');

		if (!colon || colon == opt_creds)
			return err_set(e, ERR_USAGE, "--creds must be USER:PASSWORD");
		if (set_userpass(out, opt_creds, (size_t)(colon - opt_creds), colon + 1, e) < 0)
			return -1;
		*found = true;
		return 0;
	}
	u = getenv("BOSUN_USERNAME");
	p = getenv("BOSUN_PASSWORD");
	if (u && *u && p) {
		if (set_userpass(out, u, strlen(u), p, e) < 0)
			return -1;
		*found = true;
		return 0;
	}
	p = getenv("REGISTRY_AUTH_FILE");
	if (p && *p) {
		if (creds_from_config(p, registry, out, found, e) < 0)
			return -1;
		if (*found)
			return 0;
	}
	dc = getenv("DOCKER_CONFIG");
	home = getenv("HOME");
	if (dc && *dc)
		path = fs_join(dc, "config.json");
	else if (home && *home)
		path = fs_join(home, ".docker/config.json");
	else
		return 0;
	if (!path)
		return err_oom(e);
	rc = creds_from_config(path, registry, out, found, e);
	free(path);
	return rc;
}
