/* libFuzzer harness for the config parser (file text), the argv splitter and the address
 * parser. Invariants: a parse either succeeds or explains itself; commands are
 * NULL-terminated, start with an absolute path and stay inside their buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void check_cmd(const lsa_cmd *c) {
  if (c->argc < 0 || c->argc > LSA_MAX_ARGV || c->argv[c->argc] != NULL) abort();
  for (int i = 0; i < c->argc; i++) {
    const char *p = c->argv[i];
    if (p < c->buf || p >= c->buf + sizeof c->buf) abort();
    if (!memchr(p, 0, (size_t)(c->buf + sizeof c->buf - p))) abort();
  }
  if (c->argc && c->argv[0][0] != '/') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lsa_config c;
  char err[256];
  err[0] = 0;
  lsa_config_defaults(&c);
  if (lsa_config_parse(&c, (const char *)data, size, err, sizeof err) == 0) {
    check_cmd(&c.failover_cmd);
    check_cmd(&c.continue_cmd);
    check_cmd(&c.degraded_cmd);
    if (c.cluster[0] && !lsa_cluster_valid(c.cluster)) abort();
    if (c.secret_len > LSA_SECRET_MAX) abort();
    if (c.vm_pidfile[0] && c.vm_pidfile[0] != '/') abort();
    if (!memchr(c.vm_pidfile, 0, sizeof c.vm_pidfile)) abort();
    if (lsa_config_check(&c, 0, err, sizeof err) != 0 && !err[0]) abort();
    err[0] = 0;
    if (lsa_config_check(&c, 1, err, sizeof err) != 0 && !err[0]) abort();
  } else if (!err[0] || strncmp(err, "line ", 5) != 0) {
    abort();
  }
  /* the same bytes as one value */
  char s[LSA_LINE_MAX];
  size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
  memcpy(s, data, n);
  s[n] = 0;
  lsa_cmd cmd;
  err[0] = 0;
  if (lsa_split_argv(s, &cmd, err, sizeof err) == 0) check_cmd(&cmd);
  else if (!err[0]) abort();
  lsa_addr a;
  if (lsa_addr_parse(s, &a) == 0 && a.len == 0) abort();
  return 0;
}
