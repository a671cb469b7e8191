/* Unit tests of the agent's parts that touch bytes: SHA-256 / HMAC vectors, the wire format,
 * replay protection, the config parser and the JSON writer. */
#include "check.h"
#include "vmwatch.h"

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
void test_sha256(void) {
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

void test_hmac(void) {
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

void test_wire(void) {
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

void test_replay(void) {
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

void test_config(void) {
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

  /* vm_pidfile: absolute path or empty (not watched); file and flag spelling */
  lsa_config_defaults(&c);
  CHECK(c.vm_pidfile[0] == 0);
  CHECK_EQ_INT(lsa_config_parse(&c, "vm_pidfile = /run/lockstep/vm/primary.pid\n", 42, err, sizeof err), 0);
  CHECK(!strcmp(c.vm_pidfile, "/run/lockstep/vm/primary.pid"));
  CHECK_EQ_INT(lsa_config_set(&c, "vm-pidfile", "/tmp/q.pid", err, sizeof err), 0);
  CHECK(!strcmp(c.vm_pidfile, "/tmp/q.pid"));
  CHECK_EQ_INT(lsa_config_set(&c, "vm_pidfile", "", err, sizeof err), 0);
  CHECK(c.vm_pidfile[0] == 0);
  err[0] = 0;
  CHECK_EQ_INT(lsa_config_parse(&c, "vm_pidfile = run/q.pid\n", 23, err, sizeof err), -1);
  CHECK(!strncmp(err, "line 1: vm_pidfile must be an absolute path", 43));
  char longpath[LSA_PATH_MAX + 20] = "vm_pidfile = /";
  memset(longpath + 14, 'p', LSA_PATH_MAX);
  longpath[14 + LSA_PATH_MAX] = 0;
  CHECK_EQ_INT(lsa_config_parse(&c, longpath, strlen(longpath), err, sizeof err), -1);
  CHECK(strstr(err, "vm_pidfile too long") != NULL);

  lsa_addr a;
  CHECK_EQ_INT(lsa_addr_parse("[::1]:1", &a), 0);
  CHECK_EQ_INT(lsa_addr_parse("[::1]1", &a), -1);
  CHECK_EQ_INT(lsa_addr_parse("1.2.3.4:", &a), -1);
  CHECK_EQ_INT(lsa_addr_parse(":80", &a), -1);
  CHECK_EQ_INT(lsa_addr_parse("1.2.3.4:123456", &a), -1);
}

void test_json(void) {
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

/* ------------------------------------------------------------------ vm watch */
void test_vmwatch(void) {
  CHECK_EQ_INT(lsa_pidfile_parse("1234\n", 5), 1234);
  CHECK_EQ_INT(lsa_pidfile_parse("  77 ", 5), 77);
  CHECK_EQ_INT(lsa_pidfile_parse("4194304", 7), 4194304);
  CHECK_EQ_INT(lsa_pidfile_parse("4194305", 7), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("99999999999999999999999", 23), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("", 0), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("\n", 1), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("0\n", 2), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("-5", 2), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("12 34", 5), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("12x", 3), -1);
  CHECK_EQ_INT(lsa_pidfile_parse("12\0", 3), -1);
  const char run[] = "4242 (qemu-system-x86) S 1 4242 4242 0 -1";
  const char zombie[] = "4242 (qemu-system-x86) Z 1 4242";
  const char tricky[] = "4242 (a) Z (b)) R 1 2";
  CHECK_EQ_INT(lsa_proc_stat_dead(run, strlen(run)), 0);
  CHECK_EQ_INT(lsa_proc_stat_dead(zombie, strlen(zombie)), 1);
  CHECK_EQ_INT(lsa_proc_stat_dead("1 (x) X 0", 9), 1);
  CHECK_EQ_INT(lsa_proc_stat_dead(tricky, strlen(tricky)), 0); /* the last ')' counts */
  CHECK_EQ_INT(lsa_proc_stat_dead("garbage", 7), -1);
  CHECK_EQ_INT(lsa_proc_stat_dead("1 (x)", 5), -1);
  CHECK_EQ_INT(lsa_proc_stat_dead("1 (x) ", 6), -1);
  CHECK_EQ_INT(lsa_proc_stat_dead("1 (x) 9", 7), -1);
}
