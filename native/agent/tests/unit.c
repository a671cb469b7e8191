/* Unit tests: SHA-256 / HMAC vectors, the wire format, the config parser, the JSON writer
 * and the decision function (driven by a small deterministic simulator). No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "json.h"
#include "sha256.h"
#include "wire.h"

static int g_fail, g_checks;
#define CHECK(cond)                                                        \
  do {                                                                     \
    g_checks++;                                                            \
    if (!(cond)) {                                                         \
      g_fail++;                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)
#define CHECK_EQ_INT(a, b)                                                           \
  do {                                                                               \
    long long _a = (long long)(a), _b = (long long)(b);                              \
    g_checks++;                                                                      \
    if (_a != _b) {                                                                  \
      g_fail++;                                                                      \
      fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #a, _a, _b); \
    }                                                                                \
  } while (0)

static void hex(const uint8_t *d, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}
static size_t unhex(const char *s, uint8_t *out) {
  size_t n = strlen(s) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(s + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
  return n;
}

/* ------------------------------------------------------------------ SHA-256 / HMAC */
static void test_sha256(void) {
  struct { const char *in, *out; } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t d[32];
    char h[65];
    sha256(v[i].in, strlen(v[i].in), d);
    hex(d, 32, h);
    CHECK(strcmp(h, v[i].out) == 0);
  }
  /* one million 'a', fed in uneven pieces */
  sha256_ctx c;
  sha256_init(&c);
  char a[1000];
  memset(a, 'a', sizeof a);
  size_t left = 1000000, step = 1;
  while (left) {
    size_t k = step < left ? step : left;
    if (k > sizeof a) k = sizeof a;
    sha256_update(&c, a, k);
    left -= k;
    step = step % 997 + 7;
  }
  uint8_t d[32];
  char h[65];
  sha256_final(&c, d);
  hex(d, 32, h);
  CHECK(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
}

static void test_hmac(void) {
  /* RFC 4231 test cases 1, 2, 3, 4, 6, 7 (5 is a truncated MAC) */
  struct { const char *key, *data, *mac; } v[] = {
      {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"0102030405060708090a0b0c0d0e0f10111213141516171819",
       "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t key[200], data[200], mac[32];
    size_t kl = unhex(v[i].key, key), dl = unhex(v[i].data, data);
    char h[65];
    hmac_sha256(key, kl, data, dl, mac);
    hex(mac, 32, h);
    CHECK(strcmp(h, v[i].mac) == 0);
  }
  CHECK(lsa_ct_equal("abc", "abc", 3));
  CHECK(!lsa_ct_equal("abc", "abd", 3));
}

/* ------------------------------------------------------------------ wire */
static hmac_sha256_key g_key, g_key2;

static lsa_msg sample_msg(void) {
  lsa_msg m;
  memset(&m, 0, sizeof m);
  m.type = LSA_T_HEARTBEAT;
  m.role = LSA_ROLE_PRIMARY;
  m.path = LSA_PATH_CROSSOVER;
  strcpy(m.cluster, "lab-1");
  m.seq = 1700000000000000ULL;
  m.echo = 0;
  m.state = LSA_K_PROTECTED;
  m.flags = 0;
  m.age_ms = 12;
  m.wall_ms = 1700000000000ULL;
  return m;
}

/* re-MAC after tampering, so the structural check (not the MAC) is what rejects */
static void remac(uint8_t *b) { hmac_sha256_mac(&g_key, b, LSA_MAC_OFF, b + LSA_MAC_OFF); }

static void test_wire(void) {
  hmac_sha256_key_init(&g_key, "0123456789abcdef-secret", 23);
  hmac_sha256_key_init(&g_key2, "another-secret-0123456", 22);
  lsa_msg m = sample_msg(), out;
  uint8_t b[LSA_MSG_LEN], t[LSA_MSG_LEN + 1];
  lsa_encode(&m, &g_key, b);
  CHECK(memcmp(b, "LSAG\x01\x01\x01\x01lab-1", 13) == 0);
  CHECK_EQ_INT(lsa_decode(b, sizeof b, "lab-1", &g_key, &out), LSA_OK);
  CHECK(out.seq == m.seq && out.wall_ms == m.wall_ms && out.age_ms == 12 &&
        out.state == LSA_K_PROTECTED && !strcmp(out.cluster, "lab-1"));
  CHECK_EQ_INT(lsa_decode(b, sizeof b, NULL, &g_key, &out), LSA_OK);
  /* every rejection reason */
  CHECK_EQ_INT(lsa_decode(b, sizeof b - 1, "lab-1", &g_key, &out), LSA_E_LENGTH);
  memcpy(t, b, sizeof b);
  t[LSA_MSG_LEN] = 0;
  CHECK_EQ_INT(lsa_decode(t, sizeof t, "lab-1", &g_key, &out), LSA_E_LENGTH);
  CHECK_EQ_INT(lsa_decode(b, 0, "lab-1", &g_key, &out), LSA_E_LENGTH);
  CHECK_EQ_INT(lsa_decode(b, sizeof b, "lab-2", &g_key, &out), LSA_E_CLUSTER);
  CHECK_EQ_INT(lsa_decode(b, sizeof b, "lab-1", &g_key2, &out), LSA_E_MAC);
  struct { int off; uint8_t val; enum lsa_verdict want; } tamper[] = {
      {0, 'X', LSA_E_MAGIC},  {4, 2, LSA_E_VERSION}, {4, 0, LSA_E_VERSION},
      {5, 0, LSA_E_FIELD},    {5, 4, LSA_E_FIELD},   {6, 0, LSA_E_FIELD},
      {6, 4, LSA_E_FIELD},    {7, 0, LSA_E_FIELD},   {7, 4, LSA_E_FIELD},
      {8, 0, LSA_E_FIELD},    /* empty cluster (and garbage after the NUL) */
      {8, '/', LSA_E_FIELD},  {20, 'x', LSA_E_FIELD}, /* char after the NUL padding */
      {41, 2, LSA_E_FIELD},   {42, 1, LSA_E_FIELD},  {43, 1, LSA_E_FIELD}};
  for (size_t i = 0; i < sizeof tamper / sizeof tamper[0]; i++) {
    memcpy(t, b, sizeof b);
    t[tamper[i].off] = tamper[i].val;
    remac(t);
    CHECK_EQ_INT(lsa_decode(t, LSA_MSG_LEN, "lab-1", &g_key, &out), tamper[i].want);
  }
  memcpy(t, b, sizeof b); /* seq 0 */
  memset(t + 24, 0, 8);
  remac(t);
  CHECK_EQ_INT(lsa_decode(t, LSA_MSG_LEN, "lab-1", &g_key, &out), LSA_E_FIELD);
  /* any flipped bit in the authenticated part or the MAC is caught */
  int caught = 0;
  for (int i = 0; i < LSA_MSG_LEN * 8; i++) {
    memcpy(t, b, sizeof b);
    t[i / 8] ^= (uint8_t)(1 << (i % 8));
    if (lsa_decode(t, LSA_MSG_LEN, "lab-1", &g_key, &out) != LSA_OK) caught++;
  }
  CHECK_EQ_INT(caught, LSA_MSG_LEN * 8);
  /* a 16-char cluster uses the whole field */
  strcpy(m.cluster, "abcdefghijklmnop");
  lsa_encode(&m, &g_key, b);
  CHECK_EQ_INT(lsa_decode(b, sizeof b, "abcdefghijklmnop", &g_key, &out), LSA_OK);
  CHECK(lsa_cluster_valid("a.b_c-D9"));
  CHECK(!lsa_cluster_valid(""));
  CHECK(!lsa_cluster_valid("abcdefghijklmnopq"));
  CHECK(!lsa_cluster_valid("a b"));
}

static void test_replay(void) {
  lsa_replay r = {0};
  CHECK_EQ_INT(lsa_replay_check(&r, 0), LSA_RP_SEEN);
  CHECK_EQ_INT(lsa_replay_check(&r, 1000), LSA_RP_UNKNOWN); /* nothing accepted yet */
  lsa_replay_reset(&r, 1000);
  CHECK_EQ_INT(lsa_replay_check(&r, 1000), LSA_RP_SEEN);
  CHECK_EQ_INT(lsa_replay_check(&r, 1002), LSA_RP_FRESH);
  CHECK_EQ_INT(lsa_replay_check(&r, 1001), LSA_RP_FRESH); /* late, inside the window */
  CHECK_EQ_INT(lsa_replay_check(&r, 1001), LSA_RP_SEEN);
  CHECK_EQ_INT(lsa_replay_check(&r, 1064), LSA_RP_FRESH);
  CHECK_EQ_INT(lsa_replay_check(&r, 1000), LSA_RP_SEEN); /* 64 behind: outside */
  CHECK_EQ_INT(lsa_replay_check(&r, 1003), LSA_RP_FRESH); /* 61 behind, unseen */
  CHECK_EQ_INT(lsa_replay_check(&r, 1002), LSA_RP_SEEN);
  CHECK_EQ_INT(lsa_replay_check(&r, 5000), LSA_RP_FRESH); /* a jump clears the window */
  CHECK_EQ_INT(lsa_replay_check(&r, 1064), LSA_RP_SEEN);
  CHECK_EQ_INT(lsa_replay_check(&r, 4990), LSA_RP_FRESH);
  CHECK_EQ_INT(lsa_replay_check(&r, 4990), LSA_RP_SEEN);
  CHECK_EQ_INT(lsa_replay_check(&r, 4936), LSA_RP_SEEN);  /* exactly 64 behind */
  CHECK_EQ_INT(lsa_replay_check(&r, 4937), LSA_RP_FRESH); /* 63 behind */
  /* far either way: another run of the sender, or an old replay - needs a fresh echo */
  CHECK_EQ_INT(lsa_replay_check(&r, 5000 + LSA_REPLAY_JUMP + 1), LSA_RP_UNKNOWN);
  CHECK_EQ_INT(r.highest, 5000);
  CHECK_EQ_INT(lsa_replay_check(&r, 5000 + LSA_REPLAY_JUMP), LSA_RP_FRESH);
  CHECK_EQ_INT(lsa_replay_check(&r, 1), LSA_RP_UNKNOWN);
  lsa_replay_reset(&r, 7);
  CHECK_EQ_INT(lsa_replay_check(&r, 7), LSA_RP_SEEN);
  CHECK_EQ_INT(lsa_replay_check(&r, 8), LSA_RP_FRESH);
  CHECK_EQ_INT(lsa_replay_check(&r, 5000 + LSA_REPLAY_JUMP), LSA_RP_UNKNOWN);
  /* echoes: (floor, current] */
  CHECK(!lsa_echo_fresh(0, 0, 20));
  CHECK(!lsa_echo_fresh(10, 10, 20));
  CHECK(lsa_echo_fresh(11, 10, 20));
  CHECK(lsa_echo_fresh(20, 10, 20));
  CHECK(!lsa_echo_fresh(21, 10, 20));
}

/* ------------------------------------------------------------------ config */
static const char sample_conf[] =
    "# lab pair\n"
    "role = secondary\n"
    "cluster_id=lab-1\n"
    "  secret = correct horse battery staple  \n"
    "crossover_local = 10.99.0.2:7788\r\n"
    "crossover_peer = 10.99.0.1:7788\n"
    "public_local = [fd00::2]:7788\n"
    "public_peer = [fd00::1]:7788\n"
    "witness = 192.168.1.10:7790\n"
    "\n"
    "interval_ms = 20\n"
    "timeout-ms = 300\n"
    "failover_cmd = /usr/lib/lockstep/failover.sh --vm \"demo guest\" 'a b' c\\ d\n"
    "status_socket = /tmp/x.sock\n";

static void test_config(void) {
  lsa_config c;
  char err[256] = "";
  lsa_config_defaults(&c);
  CHECK_EQ_INT(lsa_config_parse(&c, sample_conf, strlen(sample_conf), err, sizeof err), 0);
  CHECK_EQ_INT(c.role, LSA_ROLE_SECONDARY);
  CHECK(!strcmp(c.cluster, "lab-1"));
  CHECK_EQ_INT(c.secret_len, 28);
  CHECK(!memcmp(c.secret, "correct horse battery staple", 28));
  CHECK(c.crossover_local.set && c.crossover_local.ss.ss_family == AF_INET);
  CHECK(c.public_peer.set && c.public_peer.ss.ss_family == AF_INET6);
  CHECK_EQ_INT(c.timeout_ms, 300);
  CHECK_EQ_INT(c.failover_cmd.argc, 5);
  CHECK(!strcmp(c.failover_cmd.argv[0], "/usr/lib/lockstep/failover.sh"));
  CHECK(!strcmp(c.failover_cmd.argv[1], "--vm"));
  CHECK(!strcmp(c.failover_cmd.argv[2], "demo guest"));
  CHECK(!strcmp(c.failover_cmd.argv[3], "a b"));
  CHECK(!strcmp(c.failover_cmd.argv[4], "c d"));
  CHECK(c.failover_cmd.argv[5] == NULL);
  CHECK_EQ_INT(lsa_config_check(&c, 0, err, sizeof err), 0);
  CHECK_EQ_INT(lsa_config_check(&c, 1, err, sizeof err), -1); /* witness mode needs listen */

  /* errors carry the line number */
  const char *bad[] = {"role = leader\n",
                       "# ok\nnope = 1\n",
                       "crossover_peer = 10.0.0.1\n",
                       "crossover_peer = 10.0.0.1:0\n",
                       "crossover_peer = 10.0.0.1:65536\n",
                       "crossover_peer = 10.0.0.300:1\n",
                       "crossover_peer = fd00::1:7788\n",
                       "interval_ms = 0\n",
                       "interval_ms = -5\n",
                       "timeout_ms = 3x\n",
                       "cluster_id = has space\n",
                       "cluster_id = abcdefghijklmnopq\n",
                       "secret = hex:abc\n",
                       "secret = hex:zz\n",
                       "failover_cmd = relative/path\n",
                       "failover_cmd = /bin/x 'open\n",
                       "failover_cmd = /bin/x \"open\n",
                       "failover_cmd = /bin/x \\\n",
                       "just a line\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    lsa_config_defaults(&c);
    err[0] = 0;
    CHECK_EQ_INT(lsa_config_parse(&c, bad[i], strlen(bad[i]), err, sizeof err), -1);
    CHECK(!strncmp(err, "line ", 5));
  }
  lsa_config_defaults(&c);
  CHECK_EQ_INT(lsa_config_parse(&c, "a\0b = c\n", 8, err, sizeof err), -1);
  char longline[LSA_LINE_MAX + 10];
  memset(longline, 'x', sizeof longline);
  CHECK_EQ_INT(lsa_config_parse(&c, longline, sizeof longline, err, sizeof err), -1);

  lsa_config_defaults(&c);
  CHECK_EQ_INT(lsa_config_set(&c, "secret", "hex:00112233445566778899aabbccddeeff", err, sizeof err), 0);
  CHECK_EQ_INT(c.secret_len, 16);
  CHECK_EQ_INT(c.secret[15], 0xff);
  /* consistency checks */
  lsa_config_defaults(&c);
  lsa_config_parse(&c, sample_conf, strlen(sample_conf), err, sizeof err);
  CHECK_EQ_INT(lsa_config_set(&c, "timeout_ms", "50", err, sizeof err), 0);
  CHECK_EQ_INT(lsa_config_check(&c, 0, err, sizeof err), -1); /* < 3 x interval */
  lsa_config_set(&c, "timeout_ms", "300", err, sizeof err);
  lsa_config_set(&c, "secret", "short", err, sizeof err);
  CHECK_EQ_INT(lsa_config_check(&c, 0, err, sizeof err), -1);
  lsa_config_set(&c, "secret", "long enough secret!", err, sizeof err);
  lsa_config_set(&c, "degraded_cmd", "/bin/true", err, sizeof err);
  CHECK_EQ_INT(lsa_config_check(&c, 0, err, sizeof err), -1); /* primary only */
  lsa_config_set(&c, "degraded_cmd", "", err, sizeof err);
  CHECK_EQ_INT(c.degraded_cmd.argc, 0);
  CHECK_EQ_INT(lsa_config_check(&c, 0, err, sizeof err), 0);
  lsa_config_set(&c, "witness_interval_ms", "100", err, sizeof err);
  CHECK_EQ_INT(lsa_config_check(&c, 0, err, sizeof err), -1); /* > timeout/4 */

  lsa_cmd cmd;
  CHECK_EQ_INT(lsa_split_argv("", &cmd, err, sizeof err), 0);
  CHECK_EQ_INT(cmd.argc, 0);
  CHECK_EQ_INT(lsa_split_argv("   /bin/echo   a\t\"\" ''  ", &cmd, err, sizeof err), 0);
  CHECK_EQ_INT(cmd.argc, 4);
  CHECK(!strcmp(cmd.argv[2], "") && !strcmp(cmd.argv[3], ""));
  CHECK_EQ_INT(lsa_split_argv("/bin/echo \"q\\\"x\\\\\"", &cmd, err, sizeof err), 0);
  CHECK(!strcmp(cmd.argv[1], "q\"x\\"));
  char many[400] = "/bin/x";
  for (int i = 0; i < 40; i++) strcat(many, " a");
  CHECK_EQ_INT(lsa_split_argv(many, &cmd, err, sizeof err), -1);

  lsa_addr a;
  CHECK_EQ_INT(lsa_addr_parse("[::1]:1", &a), 0);
  CHECK_EQ_INT(lsa_addr_parse("[::1]1", &a), -1);
  CHECK_EQ_INT(lsa_addr_parse("1.2.3.4:", &a), -1);
  CHECK_EQ_INT(lsa_addr_parse(":80", &a), -1);
  CHECK_EQ_INT(lsa_addr_parse("1.2.3.4:123456", &a), -1);
}

static void test_json(void) {
  char mem[64];
  jbuf b;
  jb_init(&b, mem, sizeof mem);
  jb_raw(&b, "{");
  jb_key(&b, "k");
  jb_str(&b, "a\"b\\c\n\x01");
  jb_raw(&b, "}");
  CHECK(jb_ok(&b));
  CHECK(!strcmp(mem, "{\"k\":\"a\\\"b\\\\c\\n\\u0001\"}"));
  char small[8];
  jb_init(&b, small, sizeof small);
  jb_str(&b, "too long for it");
  CHECK(!jb_ok(&b));
  CHECK(strlen(small) < sizeof small);
}

/* ------------------------------------------------------------------ decide: a simulator */
/* One millisecond per step. The peer sends a heartbeat on each live path every 20 ms; we
 * ping the witness every 20 ms (offset 10) and the pong comes back 1 ms later if our link
 * to the witness is up; the witness reports how long since it last heard our peer (the
 * peer pings it every 20 ms while alive and linked). */
typedef struct {
  lsa_dconf cf;
  lsa_state st;
  lsa_inputs in;
  int64_t now;
  int peer_alive, xo_link, pub_link, witness_link, peer_to_witness, peer_solo;
  int drop_hb;     /* drop this many upcoming heartbeat rounds on both paths */
  int drop_pongs;  /* drop this many upcoming pongs */
  int64_t w_peer_last, pong_due, pong_sent;
  int child_rc_next; /* rc the action's command will exit with (after 5 ms) */
  int64_t child_done_at;
  enum lsa_action acts[8];
  int64_t act_at[8];
  int nact;
} sim;

static void sim_init(sim *s, enum lsa_role role) {
  memset(s, 0, sizeof *s);
  s->cf.role = role;
  s->cf.timeout_ms = 300;
  s->cf.witness_timeout_ms = 300;
  s->cf.rearm_ms = 1000;
  s->cf.has_witness = 1;
  s->now = 1000;
  lsa_state_init(&s->st, s->now);
  s->in.heard[0] = s->in.heard[1] = -1;
  s->in.witness_ok_at = s->in.witness_ok_sent = -1;
  s->in.witness_peer_age = LSA_AGE_NEVER;
  s->peer_alive = s->xo_link = s->pub_link = s->witness_link = s->peer_to_witness = 1;
  s->w_peer_last = -1;
  s->pong_due = -1;
  s->child_done_at = -1;
}

static void sim_step(sim *s) {
  s->now++;
  if (s->now % 20 == 0) {
    if (s->drop_hb > 0) {
      s->drop_hb--;
    } else if (s->peer_alive) {
      if (s->xo_link) s->in.heard[LSA_XO] = s->now;
      if (s->pub_link) s->in.heard[LSA_PUB] = s->now;
      if (s->xo_link || s->pub_link) s->in.peer_solo = s->peer_solo;
    }
    if (s->peer_alive && s->peer_to_witness) s->w_peer_last = s->now;
  }
  if (s->now % 20 == 10 && s->witness_link) {
    if (s->drop_pongs > 0) s->drop_pongs--;
    else { s->pong_due = s->now + 1; s->pong_sent = s->now; }
  }
  if (s->pong_due == s->now) {
    if (s->witness_link) {
      s->in.witness_ok_at = s->now;
      s->in.witness_ok_sent = s->pong_sent;
      s->in.witness_peer_age =
          s->w_peer_last < 0 ? LSA_AGE_NEVER : (uint32_t)(s->now - 1 - s->w_peer_last);
    }
    s->pong_due = -1;
  }
  if (s->child_done_at == s->now) {
    s->in.child_done = 1;
    s->in.child_rc = s->child_rc_next;
    s->child_done_at = -1;
  }
  lsa_decision d = lsa_decide(&s->cf, &s->st, &s->in, s->now);
  s->in.child_done = 0;
  s->st = d.next;
  if (d.action != LSA_A_NONE) {
    if (s->nact < 8) {
      s->acts[s->nact] = d.action;
      s->act_at[s->nact] = s->now;
    }
    s->nact++;
    s->child_done_at = s->now + 5;
  }
}

static void sim_run(sim *s, int64_t ms) {
  for (int64_t i = 0; i < ms; i++) sim_step(s);
}

/* runs until armed; returns the time it took */
static int64_t sim_arm(sim *s) {
  int64_t t0 = s->now;
  for (int i = 0; i < 5000 && s->st.kind != LSA_K_PROTECTED; i++) sim_step(s);
  return s->now - t0;
}

static void test_decide_arming(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  sim_run(&s, 500);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING); /* crossover must be steady for rearm_ms */
  int64_t t = sim_arm(&s);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  CHECK(t + 500 >= 1000 && t + 500 <= 1030);
  CHECK(lsa_kind_armed(s.st.kind));

  /* peer never heard: waits forever, never acts, even with the witness fine */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.peer_alive = 0;
  sim_run(&s, 10000);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  CHECK_EQ_INT(s.nact, 0);
  /* nothing at all (no peer, no witness): isolated once the witness had its chance */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.peer_alive = 0;
  s.witness_link = 0;
  sim_run(&s, 299);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  sim_run(&s, 2);
  CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
  CHECK_EQ_INT(s.nact, 0);
}

static void test_decide_hysteresis(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  /* one lost heartbeat round, then up to 13 consecutive rounds (260 ms): nothing happens */
  for (int lost = 1; lost <= 13; lost++) {
    s.drop_hb = lost;
    sim_run(&s, 600);
    CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  }
  /* lost pongs too */
  s.drop_pongs = 10;
  s.drop_hb = 5;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  CHECK_EQ_INT(s.nact, 0);
  /* public flapping alone never matters */
  for (int i = 0; i < 10; i++) {
    s.pub_link = 0;
    sim_run(&s, 400);
    CHECK_EQ_INT(s.st.kind, LSA_K_PUBLIC_LOST);
    s.pub_link = 1;
    sim_run(&s, 100);
    CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  }
  CHECK_EQ_INT(s.nact, 0);
}

static void test_decide_failover(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  sim_run(&s, 7); /* die between heartbeats */
  int64_t died = s.now;
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_FAILOVER);
  int64_t det = s.act_at[0] - died;
  /* the last heartbeat was <= 20 ms before the death; then timeout + witness confirmation */
  CHECK(det >= 280 && det <= 360);
  printf("  simulated detection (secondary, 20 ms heartbeats, 300 ms timeout): %lld ms\n",
         (long long)det);
  CHECK_EQ_INT(s.st.kind, LSA_K_TOOK_OVER);
  /* terminal: the peer coming back (not solo) changes nothing, no second action */
  s.peer_alive = 1;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.st.kind, LSA_K_TOOK_OVER);
  CHECK_EQ_INT(s.nact, 1);
  /* ... but if it says it acted too: split brain */
  s.peer_solo = 1;
  sim_run(&s, 100);
  CHECK_EQ_INT(s.st.kind, LSA_K_SPLIT_BRAIN);
  CHECK_EQ_INT(s.nact, 1);

  /* primary: the secondary dies -> continue alone */
  sim_init(&s, LSA_ROLE_PRIMARY);
  sim_arm(&s);
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_CONTINUE);
  CHECK_EQ_INT(s.st.kind, LSA_K_ALONE);
  CHECK(lsa_kind_solo(s.st.kind));

  /* the command fails: action-failed, no retry */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.child_rc_next = 3;
  s.peer_alive = 0;
  sim_run(&s, 5000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.st.kind, LSA_K_FAILED);

  /* a dying host's last packets on the two paths are a few ms apart: still a takeover */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = 0;
  sim_run(&s, 150); /* the public heartbeats outlive the crossover by 150 ms */
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_FAILOVER);

  /* public lost first (still protected), then the whole host */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.pub_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PUBLIC_LOST);
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_FAILOVER);

  /* the witness never heard the peer (e.g. restarted after the death): still a takeover */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.peer_to_witness = 0;
  sim_arm(&s);
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
}

static void test_decide_degraded(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = 0; /* crossover cut, peer alive on public */
  sim_run(&s, 10000);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  CHECK(!lsa_kind_armed(s.st.kind));
  CHECK_EQ_INT(s.nact, 0);
  /* degraded is disarmed: the peer dying now is NOT a takeover (our copy is stale) */
  s.peer_alive = 0;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.nact, 0);
  s.peer_alive = 1;
  sim_run(&s, 100);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  /* crossover back: waiting, then re-armed after rearm_ms */
  s.xo_link = 1;
  sim_run(&s, 100);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  /* a flapping crossover (back for less than rearm_ms) never re-arms */
  s.xo_link = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  for (int i = 0; i < 5; i++) {
    s.xo_link = 1;
    sim_run(&s, 500);
    CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
    s.xo_link = 0;
    sim_run(&s, 400);
  }
  CHECK(!lsa_kind_armed(s.st.kind));
  CHECK_EQ_INT(s.nact, 0);

  /* primary: degraded, no action unless degraded_cmd is configured */
  sim_init(&s, LSA_ROLE_PRIMARY);
  sim_arm(&s);
  s.xo_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  CHECK_EQ_INT(s.nact, 0);
  sim_init(&s, LSA_ROLE_PRIMARY);
  s.cf.degraded_action = 1;
  sim_arm(&s);
  s.xo_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_DEGRADED);
  CHECK_EQ_INT(s.st.kind, LSA_K_ALONE);
}

static void test_decide_isolated(void) {
  sim s;
  /* the secondary loses everything: peer and witness */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = s.pub_link = s.witness_link = 0;
  sim_run(&s, 10000);
  CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
  CHECK_EQ_INT(s.nact, 0);
  /* the witness comes back first: still no takeover (we were cut off, not the peer) */
  s.witness_link = 1;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.nact, 0);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  /* links back: re-armed after rearm_ms */
  s.xo_link = s.pub_link = 1;
  sim_arm(&s);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);

  /* the primary isolated: no continue-alone; every phase of the cut vs the ping cycle */
  for (int phase = 0; phase < 20; phase++) {
    sim_init(&s, LSA_ROLE_PRIMARY);
    sim_arm(&s);
    sim_run(&s, phase);
    s.xo_link = s.pub_link = s.witness_link = 0;
    sim_run(&s, 3000);
    CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
    CHECK_EQ_INT(s.nact, 0);
  }
  /* nor the secondary, whatever the phase, even if the primary is really dead */
  for (int phase = 0; phase < 20; phase++) {
    sim_init(&s, LSA_ROLE_SECONDARY);
    sim_arm(&s);
    sim_run(&s, phase);
    s.xo_link = s.pub_link = s.witness_link = 0;
    s.peer_alive = 0;
    sim_run(&s, 3000);
    CHECK_EQ_INT(s.nact, 0);
  }
  /* no witness configured: never acts */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.cf.has_witness = 0;
  s.witness_link = 0;
  sim_arm(&s);
  s.peer_alive = 0;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
  CHECK_EQ_INT(s.nact, 0);
}

static void test_decide_partition(void) {
  /* both links between the hosts cut, both still reach the witness */
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = s.pub_link = 0;
  sim_run(&s, 5000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PARTITIONED);
  CHECK_EQ_INT(s.nact, 0);
  /* the primary then dies: we stay out (it has been running alone: we are stale) */
  s.peer_alive = 0;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.nact, 0);

  sim_init(&s, LSA_ROLE_PRIMARY); /* the primary wins the partition */
  sim_arm(&s);
  s.xo_link = s.pub_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_CONTINUE);

  /* after the partition heals, a secondary whose primary runs alone does not re-arm */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = s.pub_link = 0;
  sim_run(&s, 2000);
  s.peer_solo = 1;
  s.xo_link = s.pub_link = 1;
  sim_run(&s, 5000);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  CHECK_EQ_INT(s.nact, 0);
  /* the peer turning solo while we are armed disarms us at once */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.peer_solo = 1;
  sim_run(&s, 50);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
}

static void test_decide_pure(void) {
  /* same inputs, same answer; the input state is not modified */
  lsa_dconf cf = {.role = LSA_ROLE_SECONDARY, .timeout_ms = 300, .witness_timeout_ms = 300,
                  .rearm_ms = 1000, .has_witness = 1};
  lsa_state st;
  lsa_state_init(&st, 0);
  st.kind = LSA_K_PROTECTED;
  lsa_inputs in = {.heard = {1000, 1000}, .witness_ok_at = 1250, .witness_ok_sent = 1249,
                   .witness_peer_age = 400};
  lsa_state copy = st;
  lsa_decision a = lsa_decide(&cf, &st, &in, 1300);
  lsa_decision b = lsa_decide(&cf, &st, &in, 1300);
  CHECK(!memcmp(&st, &copy, sizeof st));
  CHECK(!memcmp(&a, &b, sizeof a));
  CHECK_EQ_INT(a.action, LSA_A_FAILOVER);
  /* a pong for a ping sent right after the last heartbeat is no proof */
  in.witness_ok_sent = 1100;
  a = lsa_decide(&cf, &st, &in, 1300);
  CHECK_EQ_INT(a.action, LSA_A_NONE);
  CHECK_EQ_INT(a.next.kind, LSA_K_SUSPECT);
  CHECK(strcmp(lsa_kind_name(LSA_K_SPLIT_BRAIN), "split-brain") == 0);
  CHECK(strcmp(lsa_action_name(LSA_A_CONTINUE), "continue-alone") == 0);
}

int main(void) {
  struct { const char *name; void (*fn)(void); } tests[] = {
      {"sha256", test_sha256},
      {"hmac", test_hmac},
      {"wire", test_wire},
      {"replay", test_replay},
      {"config", test_config},
      {"json", test_json},
      {"decide: arming", test_decide_arming},
      {"decide: hysteresis", test_decide_hysteresis},
      {"decide: failover", test_decide_failover},
      {"decide: degraded", test_decide_degraded},
      {"decide: isolated", test_decide_isolated},
      {"decide: partition", test_decide_partition},
      {"decide: pure", test_decide_pure}};
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    int before = g_fail;
    tests[i].fn();
    printf("%s %s\n", g_fail == before ? "ok  " : "FAIL", tests[i].name);
  }
  printf("%d checks, %d failed\n", g_checks, g_fail);
  return g_fail ? 1 : 0;
}
