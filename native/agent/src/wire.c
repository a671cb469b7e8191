#include "wire.h"

#include <string.h>

static const char *const verdict_names[LSA_E_COUNT] = {
    "ok", "length", "magic", "version", "field", "cluster", "mac", "replay", "unexpected"};

const char *lsa_verdict_name(enum lsa_verdict v) {
  return (unsigned)v < LSA_E_COUNT ? verdict_names[v] : "?";
}

static int cluster_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

int lsa_cluster_valid(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (n >= LSA_CLUSTER_MAX || !cluster_char((unsigned char)s[n])) return 0;
  return n > 0;
}

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | p[i];
  return v;
}

void lsa_encode(const lsa_msg *m, const hmac_sha256_key *key, uint8_t out[LSA_MSG_LEN]) {
  memset(out, 0, LSA_MSG_LEN);
  memcpy(out, LSA_MAGIC, 4);
  out[4] = LSA_VERSION;
  out[5] = m->type;
  out[6] = m->role;
  out[7] = m->path;
  size_t n = strnlen(m->cluster, LSA_CLUSTER_MAX);
  memcpy(out + 8, m->cluster, n);
  put64(out + 24, m->seq);
  put64(out + 32, m->echo);
  out[40] = m->state;
  out[41] = m->flags;
  put32(out + 44, m->age_ms);
  put64(out + 48, m->wall_ms);
  hmac_sha256_mac(key, out, LSA_MAC_OFF, out + LSA_MAC_OFF);
}

enum lsa_verdict lsa_decode(const uint8_t *buf, size_t len, const char *cluster,
                            const hmac_sha256_key *key, lsa_msg *m) {
  if (len != LSA_MSG_LEN) return LSA_E_LENGTH;
  if (memcmp(buf, LSA_MAGIC, 4) != 0) return LSA_E_MAGIC;
  if (buf[4] != LSA_VERSION) return LSA_E_VERSION;
  uint8_t type = buf[5], role = buf[6], path = buf[7];
  if (type < LSA_T_HEARTBEAT || type > LSA_T_PONG) return LSA_E_FIELD;
  if (role < LSA_ROLE_PRIMARY || role > LSA_ROLE_WITNESS) return LSA_E_FIELD;
  if (path < LSA_PATH_CROSSOVER || path > LSA_PATH_WITNESS) return LSA_E_FIELD;
  if ((buf[41] & ~LSA_FLAG_SOLO) || buf[42] || buf[43]) return LSA_E_FIELD;
  /* cluster: 1..16 valid chars, then only NULs */
  char cl[LSA_CLUSTER_MAX + 1];
  size_t n = 0;
  while (n < LSA_CLUSTER_MAX && buf[8 + n]) n++;
  for (size_t i = n; i < LSA_CLUSTER_MAX; i++)
    if (buf[8 + i]) return LSA_E_FIELD;
  memcpy(cl, buf + 8, n);
  cl[n] = 0;
  if (!lsa_cluster_valid(cl)) return LSA_E_FIELD;
  uint64_t seq = get64(buf + 24);
  if (seq == 0) return LSA_E_FIELD;
  if (cluster && strcmp(cl, cluster) != 0) return LSA_E_CLUSTER;
  uint8_t mac[SHA256_DIGEST_LEN];
  hmac_sha256_mac(key, buf, LSA_MAC_OFF, mac);
  if (!lsa_ct_equal(mac, buf + LSA_MAC_OFF, SHA256_DIGEST_LEN)) return LSA_E_MAC;
  m->type = type;
  m->role = role;
  m->path = path;
  memcpy(m->cluster, cl, n + 1);
  m->seq = seq;
  m->echo = get64(buf + 32);
  m->state = buf[40];
  m->flags = buf[41];
  m->age_ms = get32(buf + 44);
  m->wall_ms = get64(buf + 48);
  return LSA_OK;
}

int lsa_replay_check(lsa_replay *r, uint64_t seq) {
  if (seq == 0) return LSA_RP_SEEN;
  if (r->highest == 0) return LSA_RP_UNKNOWN;
  if (seq > r->highest) {
    uint64_t shift = seq - r->highest;
    if (shift > LSA_REPLAY_JUMP) return LSA_RP_UNKNOWN;
    r->bitmap = shift >= LSA_REPLAY_WINDOW ? 0 : r->bitmap << shift;
    r->bitmap |= 1;
    r->highest = seq;
    return LSA_RP_FRESH;
  }
  uint64_t off = r->highest - seq;
  if (off > LSA_REPLAY_JUMP) return LSA_RP_UNKNOWN;
  if (off >= LSA_REPLAY_WINDOW) return LSA_RP_SEEN;
  uint64_t bit = (uint64_t)1 << off;
  if (r->bitmap & bit) return LSA_RP_SEEN;
  r->bitmap |= bit;
  return LSA_RP_FRESH;
}

void lsa_replay_reset(lsa_replay *r, uint64_t seq) {
  r->highest = seq;
  r->bitmap = 1;
}

int lsa_echo_fresh(uint64_t echo, uint64_t oldest_recent, uint64_t current) {
  return echo != 0 && echo > oldest_recent && echo <= current;
}
