#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "oci/digest.h"
#include "sign/bundle.h"

int sign_key_hint(const struct sign_key *k, char out[48], struct err *e)
{
	const char *hex = k->fingerprint + 7; /* "SHA256:" */
	unsigned char raw[32];

	if (strncmp(k->fingerprint, "SHA256:", 7) != 0 || strlen(hex) != 64)
		return err_set(e, ERR_INTERNAL, "key has no SHA-256 fingerprint");
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return err_set(e, ERR_INTERNAL, "bad key fingerprint");
		raw[i] = (unsigned char)v;
	}
	base64_encode(raw, sizeof(raw), out);
	return 0;
}

static int add_str(struct buf *b, const char *s, struct err *e)
{
	cJSON *j = cJSON_CreateString(s);
	char *t = j ? cJSON_PrintUnformatted(j) : NULL;
	int r;

	cJSON_Delete(j);
	if (!t)
		return err_oom(e);
	r = buf_adds(b, t, e);
	free(t);
	return r;
}

int cosign_sign_statement_build(const char *digest, const char *const *keys,
				const char *const *vals, size_t n, struct buf *out, struct err *e)
{
	if (oci_digest_check(digest, "image digest", e) < 0)
		return -1;
	if (strncmp(digest, "sha256:", 7) != 0)
		return err_set(e, ERR_INPUT, "%s: only sha256 digests can be signed", digest);
	if (buf_addf(out, e, "{\"_type\":\"%s\",\"subject\":[{\"digest\":{\"sha256\":\"%s\"}",
		     INTOTO_STATEMENT_V1, oci_digest_hex(digest)) < 0)
		return -1;
	if (n) {
		if (buf_adds(out, ",\"annotations\":{", e) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if ((i && buf_adds(out, ",", e) < 0) || add_str(out, keys[i], e) < 0 ||
			    buf_adds(out, ":", e) < 0 || add_str(out, vals[i], e) < 0)
				return -1;
		if (buf_adds(out, "}", e) < 0)
			return -1;
	}
	return buf_addf(out, e, "}],\"predicateType\":\"%s\",\"predicate\":{}}",
			PREDICATE_COSIGN_SIGN);
}

int bundle_build_dsse(const struct sign_key *k, const void *stmt, size_t n, struct buf *out,
		      struct err *e)
{
	struct buf pae __attribute__((cleanup(buf_cleanup))) = BUF_INIT;
	_cleanup_free_ char *pb = NULL, *sb = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char hint[48];

	if (sign_key_hint(k, hint, e) < 0 || dsse_pae(INTOTO_PAYLOAD_TYPE, stmt, n, &pae, e) < 0 ||
	    sign_key_sign(k, pae.data, pae.len, &sig, &siglen, e) < 0)
		return -1;
	sb = base64_encode_e(sig, siglen, e);
	free(sig);
	if (!sb || !(pb = base64_encode_e(stmt, n, e)))
		return -1;
	return buf_addf(
	    out, e,
	    "{\"mediaType\":\"%s\",\"verificationMaterial\":{\"publicKey\":{\"hint\":\"%s\"},"
	    "\"tlogEntries\":[]},\"dsseEnvelope\":{\"payload\":\"%s\",\"payloadType\":\"%s\","
	    "\"signatures\":[{\"sig\":\"%s\"}]}}",
	    MT_SIGSTORE_BUNDLE, hint, pb, INTOTO_PAYLOAD_TYPE, sb);
}

void bundle_free(struct sig_bundle *b)
{
	free(b->hint);
	dsse_envelope_free(&b->env);
	memset(b, 0, sizeof(*b));
}

int bundle_parse(struct sig_bundle *b, const char *s, size_t n, struct err *e)
{
	cJSON *root = cJSON_ParseWithLength(s, n);
	const cJSON *mt, *vm, *pk, *hint, *env;
	char *t = NULL;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	if (!cJSON_IsObject(root)) {
		err_set(e, ERR_INPUT, "bundle is not a JSON object");
		goto out;
	}
	mt = cJSON_GetObjectItemCaseSensitive(root, "mediaType");
	if (!cJSON_IsString(mt) ||
	    !(str_starts(mt->valuestring, "application/vnd.dev.sigstore.bundle.v0.") ||
	      str_starts(mt->valuestring, "application/vnd.dev.sigstore.bundle+json;version=0."))) {
		err_set(e, ERR_INPUT, "not a Sigstore bundle (mediaType %.100s)",
			cJSON_IsString(mt) ? mt->valuestring : "missing");
		goto out;
	}
	vm = cJSON_GetObjectItemCaseSensitive(root, "verificationMaterial");
	if (!cJSON_IsObject(vm)) {
		err_set(e, ERR_INPUT, "bundle has no verificationMaterial");
		goto out;
	}
	pk = cJSON_GetObjectItemCaseSensitive(vm, "publicKey");
	hint = cJSON_GetObjectItemCaseSensitive(pk, "hint");
	if (cJSON_IsString(hint) && !(b->hint = xstrdup_e(hint->valuestring, e)))
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(root, "messageSignature")) {
		b->message_signature = true;
		rc = 0;
		goto out;
	}
	env = cJSON_GetObjectItemCaseSensitive(root, "dsseEnvelope");
	if (!cJSON_IsObject(env)) {
		err_set(e, ERR_INPUT, "bundle has neither dsseEnvelope nor messageSignature");
		goto out;
	}
	if (!(t = cJSON_PrintUnformatted(env))) {
		err_oom(e);
		goto out;
	}
	if (dsse_envelope_parse(&b->env, t, strlen(t), e) < 0) {
		err_prefix(e, "bundle");
		goto out;
	}
	rc = 0;
out:
	free(t);
	cJSON_Delete(root);
	if (rc < 0)
		bundle_free(b);
	return rc;
}
