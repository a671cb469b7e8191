/* SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), self-contained: the agent links
 * statically and has no OpenSSL dependency. */
#ifndef LSA_SHA256_H
#define LSA_SHA256_H
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_BLOCK_LEN 64

typedef struct {
  uint32_t h[8];
  uint64_t total; /* bytes hashed so far */
  uint8_t buf[SHA256_BLOCK_LEN];
  size_t used;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

/* HMAC with a precomputed key: the inner/outer states after the padded key block, so the
 * per-message cost is two compressions fewer and the key itself need not stay in memory. */
typedef struct {
  sha256_ctx inner, outer;
} hmac_sha256_key;

void hmac_sha256_key_init(hmac_sha256_key *k, const void *key, size_t key_len);
void hmac_sha256_mac(const hmac_sha256_key *k, const void *msg, size_t len,
                     uint8_t out[SHA256_DIGEST_LEN]);
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t len,
                 uint8_t out[SHA256_DIGEST_LEN]);

/* Constant-time comparison: returns 1 when equal. */
int lsa_ct_equal(const void *a, const void *b, size_t len);
/* Overwrites memory in a way the compiler does not elide. */
void lsa_wipe(void *p, size_t len);
#endif
