/* libFuzzer harness for the message parser and the anti-replay window.
 * 1. the raw input through lsa_decode (structure, cluster, MAC);
 * 2. the input cut into 88-byte datagrams whose MAC is recomputed, so the fuzzer also
 *    reaches everything after the MAC check; checks: decode(x) accepted => encode(decode(x))
 *    == x (only canonical encodings pass), and an accepted seq is never accepted twice
 *    (the echo's low bit stands in for "the echo is fresh", so new runs are fuzzed too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define FUZZ_SECRET "fuzz-secret-0123456789"
#define FUZZ_CLUSTER "fuzz"

static hmac_sha256_key key;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready) {
    hmac_sha256_key_init(&key, FUZZ_SECRET, strlen(FUZZ_SECRET));
    ready = 1;
  }
  lsa_msg m;
  enum lsa_verdict v = lsa_decode(data, size, FUZZ_CLUSTER, &key, &m);
  if ((unsigned)v >= LSA_E_COUNT) abort();
  (void)lsa_decode(data, size, NULL, &key, &m);

  lsa_replay r = {0};
  for (size_t off = 0; off + LSA_MSG_LEN <= size; off += LSA_MSG_LEN) {
    uint8_t buf[LSA_MSG_LEN], again[LSA_MSG_LEN];
    memcpy(buf, data + off, LSA_MSG_LEN);
    hmac_sha256_mac(&key, buf, LSA_MAC_OFF, buf + LSA_MAC_OFF);
    if (lsa_decode(buf, LSA_MSG_LEN, NULL, &key, &m) != LSA_OK) continue;
    if (!lsa_cluster_valid(m.cluster)) abort();
    lsa_encode(&m, &key, again);
    if (memcmp(again, buf, LSA_MSG_LEN) != 0) abort(); /* non-canonical encoding accepted */
    int v1 = lsa_replay_check(&r, m.seq);
    if (v1 == LSA_RP_UNKNOWN && (m.echo & 1)) lsa_replay_reset(&r, m.seq); /* "fresh echo" */
    if (v1 != LSA_RP_UNKNOWN || (m.echo & 1)) {
      if (lsa_replay_check(&r, m.seq) != LSA_RP_SEEN) abort(); /* accepted twice */
      if (m.seq > r.highest) abort();
    }
  }
  return 0;
}
