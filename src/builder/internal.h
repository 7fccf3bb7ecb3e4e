/* Private to src/builder: the build state the executor's parts share.
 *   build.c      the core: instruction table, layers and history, the image, build_run
 *   vars.c       variables and scopes (ARG, ENV, build args), config JSON helpers
 *   plan.c       stage planning (names, the target and what it needs)
 *   config.c     config-only instructions (ENV, LABEL, ARG, WORKDIR, USER, EXPOSE,
 *                VOLUME, CMD, ENTRYPOINT, SHELL, STOPSIGNAL, MAINTAINER, ONBUILD,
 *                HEALTHCHECK)
 *   cache.c      the step cache (--cache-dir, --cache-repo)
 *   rootfs.c     the stage's root file system, users and groups in it
 *   from.c       base images: FROM, pulls, ONBUILD triggers
 *   paths.c      paths inside a root: cleaning, resolving, globs
 *   copy_tree.c  copying and hashing trees into a layer, the file-hash memo
 *   copy.c       COPY and ADD
 *   run.c        RUN and its mounts, glue to sandbox.c
 *   binfmt.c     emulation of foreign platforms (binfmt_misc handlers)
 *   platforms.c  multi-platform builds: one build per platform, the index */
#ifndef BOSUN_BUILDER_INTERNAL_H
#define BOSUN_BUILDER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "builder/build.h"
#include "builder/dockerfile.h"
#include "core/err.h"
#include "core/sha256.h"
#include "oci/desc.h"
#include "oci/layer.h"
#include "oci/layout.h"
#include "registry/registry.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct kv {
	char **k, **v;
	size_t n;
};

struct stage {
	int index;
	char *name;
	size_t first, last; /* instruction indices: first is the FROM */
	bool needed, built;
	cJSON *config;      /* the whole image config */
	struct oci_desc *layers;
	size_t n_layers;
	size_t n_applied;   /* layers unpacked into rootfs */
	char *rootfs;
	char *base_name, *base_digest;
	struct kv args;     /* ARGs declared in this stage */
	char chain[65];     /* cache chain key */
};

/* The file-hash memo (copy_tree.c) and, in multi-platform builds, the COPY
 * layers already written for another platform (copy.c). */
struct memo {
	struct memo_ent *v;
	size_t cap, n;
	bool loaded, dirty;
};

struct reuse {
	struct reuse_ent {
		char key[65];
		char *media_type, *digest, *diff_id, *platform;
		int64_t size;
	} *v;
	size_t n;
};

/* One build. In a multi-platform build (platforms.c) every platform has its
 * own struct build, sharing (borrowed) the Dockerfile, the context, the
 * workspace, the cache and the memos of the first; stages, variables and
 * counters are its own. */
struct build {
	const struct build_opts *o;
	bool multi;         /* one of several platforms */
	bool borrowed;      /* the shared parts belong to another struct build */
	struct dockerfile df;
	struct stage *st;
	size_t n_st;
	struct kv global;   /* meta ARGs + platform args */
	struct kv bargs;    /* --build-arg */
	bool *bargs_used;
	struct oci_platform plat;
	char *workdir;
	int workdir_lock;
	struct oci_layout *lay;   /* where layers and bases live */
	struct oci_layout *out;   /* the final image's layout (= lay without cache) */
	char *lay_dir;
	char *ctx_real;
	struct ignore *ig;
	int64_t created;
	int step, n_steps, hits;
	bool rootless;
	const char *cache_dir;    /* --cache-dir, or a private one for --cache-repo */
	char *cache_dir_own;
	struct reg_client *creg;  /* --cache-repo */
	struct memo *memo;        /* -> memo_store of the owner */
	struct memo memo_store;
	struct reuse *reuse;      /* -> reuse_store of the owner */
	struct reuse reuse_store;
	struct stage *cur;
	const struct df_instr *cur_in;
	int *tmpseq;              /* -> tmpseq_store of the owner */
	int tmpseq_store;
};

struct copy_ctx {
	struct build *b;
	struct stage *s;
	const char *src_root;  /* context dir or a stage's rootfs */
	bool from_context;
	long uid, gid;         /* -1 = keep default 0 */
	long chmod_mode;       /* -1 = keep */
	char *layer;           /* layer directory, or */
	struct layer_tree *tree; /* the layer's entries, written without a copy on disk */
	struct sha256 h;       /* content hash for the cache key */
	bool hash_only;
};

/* vars.c: variables and scopes, config JSON. lookup_stage and lookup_global
 * are the lexer's lookups (ctx is the struct build). */
void kv_free(struct kv *kv);
int kv_set(struct kv *kv, const char *k, const char *v, struct err *e);
cJSON *cfg_obj(struct stage *s);
const char *lookup_stage(void *ctx, const char *name);
const char *lookup_global(void *ctx, const char *name);
const char *arg_value(struct build *b, const char *k, const char *def, bool global);
void set_str(cJSON *o, const char *k, const char *v);
cJSON *strv_json(char **v, size_t n);
void env_set(struct stage *s, const char *k, const char *v);
char **config_env(struct stage *s, bool with_args, bool default_path);
void strv_free0(char **v);
const char *workdir_of(struct stage *s);
char **shell_of(struct stage *s, size_t *n);

/* plan.c: stages */
struct stage *find_stage(struct build *b, const char *name, size_t before);
int plan_stages(struct build *b, struct err *e);

/* cache.c: the step cache. chain_step moves s->chain on by one step; cache_get
 * applies a hit to s; cache_hit is cache_get that counts and logs the hit of
 * instruction in; cache_put records the step (lr NULL: no layer). */
void chain_step(struct stage *s, const char *text, const char *extra);
bool cache_get(struct build *b, struct stage *s, const char *created_by);
bool cache_hit(struct build *b, struct stage *s, const struct df_instr *in, const char *created_by);
void cache_put(struct build *b, struct stage *s, const struct layer_result *lr);

/* rootfs.c: the root file system */
int sync_rootfs(struct build *b, struct stage *s, struct err *e);
char *new_tmp(struct build *b, const char *what, struct err *e);
int resolve_user(struct build *b, struct stage *s, const char *spec, long *uid, long *gid, struct err *e);

/* from.c: base images */
int load_image(struct build *b, struct stage *s, const struct oci_desc *top, struct err *e);
int pull_base(struct build *b, const char *ref, struct oci_desc *top, struct err *e);
int do_from(struct build *b, struct stage *s, const struct df_instr *in, struct err *e);

/* paths.c: paths inside a root */
bool clean_rel(const char *in, char *out, size_t outsz);
char *resolve_in(const char *root, const char *rel, struct err *e);
bool has_glob(const char *s);
int glob_in(const char *root, const char *pat, char ***out, size_t *n, struct err *e);

/* copy_tree.c: trees into a layer */
void hash_str(struct copy_ctx *c, const char *s);
int copy_meta(struct copy_ctx *c, const char *dst, const struct stat *st, bool is_link);
int make_parents(struct copy_ctx *c, const char *dst, struct err *e);
void memo_save(struct build *b, struct memo *m);
int hash_file(struct copy_ctx *c, const char *src, struct err *e);
int copy_tree(struct copy_ctx *c, const char *src, const char *dst, const char *ctx_rel, struct err *e);

/* copy.c: COPY and ADD */
int do_copy(struct build *b, struct stage *s, const struct df_instr *in, bool add, struct err *e);

/* binfmt.c: emulation. binfmt_native: this machine runs p's executables
 * itself. binfmt_check: 0 when p is native or a binfmt_misc handler with the
 * F flag serves it; ERR_INTERNAL saying how to register one otherwise
 * (BOSUN_BINFMT_DIR, for tests only, names another directory to read). */
bool binfmt_native(const struct oci_platform *p);
int binfmt_check(const struct oci_platform *p, struct err *e);

/* run.c: RUN */
int do_run(struct build *b, struct stage *s, const struct df_instr *in, struct err *e);

/* config.c: config-only instructions (one handler each; 0, or -1 with e set
 * and not yet located: exec_instr adds the file and line) */
int meta_step(struct build *b, struct stage *s, const struct df_instr *in, const char *created_by);
int instr_env(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_label(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_arg(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_workdir(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_user(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_expose(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_volume(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_cmd(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_entrypoint(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_shell(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_stopsignal(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_maintainer(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_onbuild(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
int instr_healthcheck(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);

/* build.c: the core. at() locates e at the instruction ("FILE:LINE:COL: cmd: ...")
 * and returns -1. exec_instr runs one instruction of stage s. */
int at(struct build *b, const struct df_instr *in, struct err *e);
void log_step(struct build *b, const struct df_instr *in, const char *state);
void add_history(struct build *b, struct stage *s, const char *created_by, bool empty);
int add_layer(struct stage *s, const char *mt, const char *digest, int64_t size, const char *diff_id,
	      struct err *e);
int write_layer(struct build *b, struct stage *s, const char *dir, bool overlay, const char *created_by,
		struct err *e);
/* The same for a layer described entry by entry (COPY). */
int write_layer_tree(struct build *b, struct stage *s, struct layer_tree *t, const char *created_by, struct err *e);
int exec_instr(struct build *b, struct stage *s, const struct df_instr *in, bool onbuild, struct err *e);
/* The phases of build_run, for platforms.c. build_init: b empty, its memos its
 * own. finish_image writes the config and manifest of stage s into b->out,
 * tags it tag (NULL: untagged) and gives its descriptor (digest in dig). */
void build_init(struct build *b, const struct build_opts *o);
int open_context(struct build *b, struct err *e);
int set_args(struct build *b, struct err *e);
int open_workspace(struct build *b, struct err *e);
int run_stages(struct build *b, int target, struct err *e);
int finish_image(struct build *b, struct stage *s, const char *tag, char dig[72], int64_t *size, struct err *e);
void build_free(struct build *b);

/* platforms.c: several platforms (o->platform a comma-separated list). */
int build_run_multi(const struct build_opts *o, struct oci_platform *plats, size_t n, struct build_result *r,
		    struct err *e);

#endif
