/* Writes the binary seeds of fuzz/corpus/msg with the harness's key (make seeds). */
#include <stdio.h>
#include <string.h>

#include "wire.h"

static void put(const char *dir, const char *name, const uint8_t *b, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b, 1, n, f) != n) { perror(path); return; }
  fclose(f);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "fuzz/corpus/msg";
  hmac_sha256_key key;
  hmac_sha256_key_init(&key, "fuzz-secret-0123456789", 22);
  lsa_msg m;
  memset(&m, 0, sizeof m);
  strcpy(m.cluster, "fuzz");
  m.wall_ms = 1700000000000ULL;
  uint8_t b[LSA_MSG_LEN * 3];
  m.type = LSA_T_HEARTBEAT; m.role = LSA_ROLE_PRIMARY; m.path = LSA_PATH_CROSSOVER;
  m.seq = 1700000000000001ULL; m.state = 5; m.age_ms = 7;
  lsa_encode(&m, &key, b);
  put(dir, "heartbeat-crossover.bin", b, LSA_MSG_LEN);
  m.path = LSA_PATH_PUBLIC; m.seq++; m.flags = LSA_FLAG_SOLO; m.state = 10;
  lsa_encode(&m, &key, b + LSA_MSG_LEN);
  put(dir, "heartbeat-public-solo.bin", b + LSA_MSG_LEN, LSA_MSG_LEN);
  m.type = LSA_T_PING; m.path = LSA_PATH_WITNESS; m.role = LSA_ROLE_SECONDARY; m.seq++;
  m.flags = 0; m.age_ms = LSA_AGE_NEVER;
  lsa_encode(&m, &key, b + 2 * LSA_MSG_LEN);
  put(dir, "ping.bin", b + 2 * LSA_MSG_LEN, LSA_MSG_LEN);
  put(dir, "three-datagrams.bin", b, sizeof b);
  m.type = LSA_T_PONG; m.role = LSA_ROLE_WITNESS; m.echo = m.seq; m.seq = 42; m.age_ms = 310;
  strcpy(m.cluster, "abcdefghijklmnop");
  lsa_encode(&m, &key, b);
  put(dir, "pong-16char-cluster.bin", b, LSA_MSG_LEN);
  put(dir, "truncated.bin", b, 40);
  return 0;
}
