/* Fleet file parsing: every format, duplicates, and the line of each error. */
#include "base/watch.h"
#include "test.h"

static const struct {
	const char *text, *format;
	int n;           /* images, or -1 for an error */
	const char *err; /* substring of the message */
} cases[] = {
	{ "a/b:1\n# c\n\n  c/d:2  # trailing\na/b:1\n", "list", 2, NULL },
	{ "a/b:1\nx y\n", NULL, -1, "f:2: one image reference per line" },
	{ "a/b:1\r\nc/d:2\r\n", "list", 2, NULL },
	{ "[\"a/b:1\", {\"image\": \"c/d:2\", \"pipeline\": 7}]", "json", 2, NULL },
	{ "{\"images\": [\n\"a/b:1\",\n{\"dockerfile\": \"x\"}]}", NULL, -1, "images[1]: f:0: an entry without an image" },
	{ "{\"images\": [\n\"a/b:1\",\n\n  oops]}", NULL, -1, "f:4: invalid JSON" },
	{ "{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a/b:1\"}]}},"
	  "{\"kind\":\"Service\"}]}", "kubectl", 1, NULL },
	{ "images:\n  - a/b:1\n  - image: c/d:2\n    dockerfile: 'x y/Dockerfile'\n    pipeline: 12\n", "yaml", 2, NULL },
	{ "---\n# c\nversion: 1\nimages:\n- image: a/b:1\n  pipeline: p # c\n", "yaml", 1, NULL },
	{ "images:\n  - image: a/b:1\n    colour: red\n", NULL, -1, "f:3: unknown key" },
	{ "images:\n  - image: \"a/b:1\n", NULL, -1, "f:2: unterminated quote" },
	{ "images:\n\t- a/b:1\n", NULL, -1, "f:2: tabs" },
	{ "images:\n  - image: Bad:1\n", NULL, -1, "f:2: " },
	{ "# nothing\n", NULL, -1, "no images listed" },
};

TEST(fleet_table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fleet f;
		struct err e = ERR_INIT;
		int r = fleet_parse(&f, "f", cases[i].text, strlen(cases[i].text), &e);

		if (cases[i].n < 0) {
			CHECK_INT(r, -1);
			CHECK_INT(e.code, ERR_INPUT);
			if (!strstr(e.msg, cases[i].err))
				fprintf(stderr, "case %zu: message \"%s\"\n", i, e.msg);
			CHECK(strstr(e.msg, cases[i].err) != NULL);
			continue;
		}
		if (r < 0)
			fprintf(stderr, "case %zu: %s\n", i, e.msg);
		CHECK_INT(r, 0);
		CHECK_INT(f.n, cases[i].n);
		CHECK_STR(f.format, cases[i].format);
		fleet_free(&f);
	}
}

TEST(fleet_fields)
{
	const char *y = "images:\n  - image: c/d:2\n    dockerfile: 'x y/Dockerfile'\n    pipeline: 12\n";
	struct fleet f;
	struct err e = ERR_INIT;

	CHECK(fleet_parse(&f, "f", y, strlen(y), &e) == 0);
	CHECK_STR(f.items[0].image, "c/d:2");
	CHECK_STR(f.items[0].dockerfile, "x y/Dockerfile");
	CHECK_STR(f.items[0].pipeline, "12");
	CHECK_INT(f.items[0].line, 2);
	fleet_free(&f);
}

TEST(shards)
{
	char ref[64];
	int n_in[3] = { 0 };
	struct err e = ERR_INIT;
	int i, n;

	for (int k = 0; k < 300; k++) {
		int hits = 0;

		snprintf(ref, sizeof(ref), "reg.example/app%d:1", k);
		for (int s = 1; s <= 3; s++)
			if (base_in_shard(ref, s, 3))
				hits++, n_in[s - 1]++;
		CHECK_INT(hits, 1);
	}
	for (int s = 0; s < 3; s++)
		CHECK(n_in[s] > 50); /* no shard left nearly empty */
	CHECK(base_shard_parse("2/5", &i, &n, &e) == 0 && i == 2 && n == 5);
	CHECK(base_shard_parse("0/5", &i, &n, &e) < 0 && e.code == ERR_USAGE);
	CHECK(base_shard_parse("6/5", &i, &n, &e) < 0);
	CHECK(base_shard_parse("1/2x", &i, &n, &e) < 0);
}

int main(void)
{
	RUN(fleet_table);
	RUN(fleet_fields);
	RUN(shards);
	return test_done();
}
