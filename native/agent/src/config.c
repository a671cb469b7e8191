#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lsa_config_defaults(lsa_config *c) {
  memset(c, 0, sizeof *c);
  c->interval_ms = 20;
  c->timeout_ms = 300;
  c->witness_interval_ms = 0; /* 0 = interval_ms */
  c->witness_timeout_ms = 0;  /* 0 = timeout_ms */
  c->rearm_ms = 1000;
  c->action_timeout_ms = 30000;
  c->max_clock_skew_ms = 0; /* 0 = not checked */
  snprintf(c->status_socket, sizeof c->status_socket, "/run/lockstep-agent.sock");
}

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...) {
  if (err && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int lsa_addr_parse(const char *s, lsa_addr *a) {
  char host[64];
  const char *port;
  memset(a, 0, sizeof *a);
  if (s[0] == '[') {
    const char *end = strchr(s, ']');
    if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) return -1;
    memcpy(host, s + 1, (size_t)(end - s - 1));
    host[end - s - 1] = 0;
    port = end + 2;
  } else {
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host || strchr(s, ':') != colon) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    port = colon + 1;
  }
  if (!*port || strlen(port) > 5) return -1;
  unsigned long p = 0;
  for (const char *q = port; *q; q++) {
    if (*q < '0' || *q > '9') return -1;
    p = p * 10 + (unsigned long)(*q - '0');
  }
  if (p == 0 || p > 65535) return -1;
  struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)p);
    a->len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)p);
    a->len = sizeof *v6;
  } else {
    return -1;
  }
  a->set = 1;
  snprintf(a->text, sizeof a->text, "%s", s);
  return 0;
}

int lsa_addr_same_ip(const struct sockaddr_storage *a, const lsa_addr *b) {
  if (!b->set || a->ss_family != b->ss.ss_family) return 0;
  if (a->ss_family == AF_INET)
    return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                  &((const struct sockaddr_in *)&b->ss)->sin_addr, sizeof(struct in_addr)) == 0;
  if (a->ss_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)&b->ss)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
  return 0;
}

int lsa_split_argv(const char *s, lsa_cmd *cmd, char *err, size_t errlen) {
  memset(cmd, 0, sizeof *cmd);
  size_t o = 0;
  const char *p = s;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    if (cmd->argc == LSA_MAX_ARGV) return fail(err, errlen, "more than %s arguments", "32");
    cmd->argv[cmd->argc++] = cmd->buf + o;
    while (*p && *p != ' ' && *p != '\t') {
      char ch;
      if (*p == '\'') {
        const char *end = strchr(p + 1, '\'');
        if (!end) return fail(err, errlen, "unterminated %s quote", "single");
        for (const char *q = p + 1; q < end; q++) {
          if (o + 1 >= sizeof cmd->buf) return fail(err, errlen, "command too %s", "long");
          cmd->buf[o++] = *q;
        }
        p = end + 1;
        continue;
      }
      if (*p == '"') {
        p++;
        while (*p && *p != '"') {
          if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
          if (o + 1 >= sizeof cmd->buf) return fail(err, errlen, "command too %s", "long");
          cmd->buf[o++] = *p++;
        }
        if (*p != '"') return fail(err, errlen, "unterminated %s quote", "double");
        p++;
        continue;
      }
      if (*p == '\\') {
        if (!p[1]) return fail(err, errlen, "trailing %s", "backslash");
        p++;
      }
      ch = *p++;
      if (o + 1 >= sizeof cmd->buf) return fail(err, errlen, "command too %s", "long");
      cmd->buf[o++] = ch;
    }
    if (o + 1 >= sizeof cmd->buf) return fail(err, errlen, "command too %s", "long");
    cmd->buf[o++] = 0;
  }
  cmd->argv[cmd->argc] = NULL;
  if (cmd->argc && cmd->argv[0][0] != '/') {
    memset(cmd, 0, sizeof *cmd);
    return fail(err, errlen, "the command must start with an absolute path, got '%s'", s);
  }
  return 0;
}

static int parse_ms(const char *v, int64_t *out, int64_t min, int64_t max) {
  if (!*v || strlen(v) > 12) return -1;
  int64_t x = 0;
  for (const char *p = v; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    x = x * 10 + (*p - '0');
  }
  if (x < min || x > max) return -1;
  *out = x;
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int copy_str(char *dst, size_t n, const char *v) {
  size_t l = strlen(v);
  if (l >= n) return -1;
  memcpy(dst, v, l + 1);
  return 0;
}

int lsa_config_set(lsa_config *c, const char *key_in, const char *v, char *err, size_t errlen) {
  char key[48];
  size_t kl = strlen(key_in);
  if (kl == 0 || kl >= sizeof key) return fail(err, errlen, "unknown key '%.60s'", key_in);
  for (size_t i = 0; i <= kl; i++) key[i] = key_in[i] == '-' ? '_' : key_in[i];

  struct { const char *name; lsa_addr *a; } addrs[] = {
      {"crossover_local", &c->crossover_local}, {"crossover_peer", &c->crossover_peer},
      {"public_local", &c->public_local},       {"public_peer", &c->public_peer},
      {"witness", &c->witness},                 {"witness_listen", &c->witness_listen}};
  for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
    if (!strcmp(key, addrs[i].name)) {
      if (!*v) { memset(addrs[i].a, 0, sizeof *addrs[i].a); return 0; }
      if (lsa_addr_parse(v, addrs[i].a))
        return fail(err, errlen, "bad address '%.80s' (want 1.2.3.4:port or [v6]:port)", v);
      return 0;
    }
  struct { const char *name; int64_t *p; int64_t min, max; } nums[] = {
      {"interval_ms", &c->interval_ms, 1, 10000},
      {"timeout_ms", &c->timeout_ms, 3, 600000},
      {"witness_interval_ms", &c->witness_interval_ms, 0, 60000},
      {"witness_timeout_ms", &c->witness_timeout_ms, 0, 600000},
      {"rearm_ms", &c->rearm_ms, 0, 3600000},
      {"action_timeout_ms", &c->action_timeout_ms, 100, 3600000},
      {"max_clock_skew_ms", &c->max_clock_skew_ms, 0, 86400000}};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    if (!strcmp(key, nums[i].name)) {
      if (parse_ms(v, nums[i].p, nums[i].min, nums[i].max))
        return fail(err, errlen, "bad number of milliseconds '%.40s'", v);
      return 0;
    }
  struct { const char *name; lsa_cmd *cmd; } cmds[] = {{"failover_cmd", &c->failover_cmd},
                                                        {"continue_cmd", &c->continue_cmd},
                                                        {"degraded_cmd", &c->degraded_cmd}};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (!strcmp(key, cmds[i].name)) return lsa_split_argv(v, cmds[i].cmd, err, errlen);

  if (!strcmp(key, "role")) {
    if (!strcmp(v, "primary")) c->role = LSA_ROLE_PRIMARY;
    else if (!strcmp(v, "secondary")) c->role = LSA_ROLE_SECONDARY;
    else return fail(err, errlen, "role must be primary or secondary, got '%.40s'", v);
    return 0;
  }
  if (!strcmp(key, "cluster_id")) {
    if (!lsa_cluster_valid(v))
      return fail(err, errlen, "cluster_id must be 1-16 chars of [A-Za-z0-9._-], got '%.40s'", v);
    return copy_str(c->cluster, sizeof c->cluster, v);
  }
  if (!strcmp(key, "secret")) {
    size_t l = strlen(v);
    if (!strncmp(v, "hex:", 4)) {
      l -= 4;
      if (l % 2 || l / 2 > LSA_SECRET_MAX) return fail(err, errlen, "bad hex %s", "secret");
      for (size_t i = 0; i < l / 2; i++) {
        int hi = hexval(v[4 + 2 * i]), lo = hexval(v[5 + 2 * i]);
        if (hi < 0 || lo < 0) return fail(err, errlen, "bad hex %s", "secret");
        c->secret[i] = (uint8_t)(hi << 4 | lo);
      }
      c->secret_len = l / 2;
      return 0;
    }
    if (l > LSA_SECRET_MAX) return fail(err, errlen, "secret longer than %s bytes", "256");
    memcpy(c->secret, v, l);
    c->secret_len = l;
    return 0;
  }
  if (!strcmp(key, "secret_file")) {
    if (copy_str(c->secret_file, sizeof c->secret_file, v))
      return fail(err, errlen, "%s too long", "secret_file");
    return 0;
  }
  if (!strcmp(key, "status_socket")) {
    if (copy_str(c->status_socket, sizeof c->status_socket, v))
      return fail(err, errlen, "%s too long (max 107)", "status_socket");
    return 0;
  }
  if (!strcmp(key, "log_file")) {
    if (copy_str(c->log_file, sizeof c->log_file, v))
      return fail(err, errlen, "%s too long", "log_file");
    return 0;
  }
  if (!strcmp(key, "vm_pidfile")) {
    if (*v && v[0] != '/')
      return fail(err, errlen, "vm_pidfile must be an absolute path, got '%.80s'", v);
    if (copy_str(c->vm_pidfile, sizeof c->vm_pidfile, v))
      return fail(err, errlen, "%s too long", "vm_pidfile");
    return 0;
  }
  return fail(err, errlen, "unknown key '%.60s'", key_in);
}

static int is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

int lsa_config_parse(lsa_config *c, const char *text, size_t len, char *err, size_t errlen) {
  size_t pos = 0;
  int lineno = 0;
  char line[LSA_LINE_MAX], sub[200];
  while (pos < len) {
    lineno++;
    size_t end = pos;
    while (end < len && text[end] != '\n') end++;
    size_t l = end - pos;
    if (l >= sizeof line) {
      if (err) snprintf(err, errlen, "line %d: longer than %d bytes", lineno, LSA_LINE_MAX - 1);
      return -1;
    }
    memcpy(line, text + pos, l);
    line[l] = 0;
    pos = end + 1;
    if (memchr(line, 0, l)) {
      if (err) snprintf(err, errlen, "line %d: NUL byte", lineno);
      return -1;
    }
    char *s = line;
    while (is_blank(*s)) s++;
    char *e = s + strlen(s);
    while (e > s && is_blank(e[-1])) *--e = 0;
    if (!*s || *s == '#') continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      if (err) snprintf(err, errlen, "line %d: expected key = value", lineno);
      return -1;
    }
    char *k = s, *ke = eq, *v = eq + 1;
    while (ke > k && is_blank(ke[-1])) ke--;
    *ke = 0;
    while (is_blank(*v)) v++;
    if (lsa_config_set(c, k, v, sub, sizeof sub)) {
      if (err) snprintf(err, errlen, "line %d: %s", lineno, sub);
      return -1;
    }
  }
  return 0;
}

int lsa_config_check(const lsa_config *c, int witness_mode, char *err, size_t errlen) {
  if (!c->cluster[0]) return fail(err, errlen, "%s is required", "cluster_id");
  if (c->secret_len < 16)
    return fail(err, errlen, "%s is required (at least 16 bytes; secret= or secret_file=)",
                "the shared secret");
  if (witness_mode) {
    if (!c->witness_listen.set) return fail(err, errlen, "%s is required", "witness_listen");
    return 0;
  }
  if (!c->role) return fail(err, errlen, "%s is required (primary or secondary)", "role");
  if (!c->crossover_local.set || !c->crossover_peer.set)
    return fail(err, errlen, "%s are required", "crossover_local and crossover_peer");
  if (!c->public_local.set || !c->public_peer.set)
    return fail(err, errlen, "%s are required", "public_local and public_peer");
  if (c->timeout_ms < 3 * c->interval_ms)
    return fail(err, errlen, "%s must be at least 3 x interval_ms", "timeout_ms");
  int64_t wi = c->witness_interval_ms ? c->witness_interval_ms : c->interval_ms;
  int64_t wt = c->witness_timeout_ms ? c->witness_timeout_ms : c->timeout_ms;
  if (c->witness.set && (wi * 4 > c->timeout_ms || wt < 3 * wi))
    return fail(err, errlen, "%s",
                "witness_interval_ms must be <= timeout_ms/4 and witness_timeout_ms >= 3 x it");
  if (c->degraded_cmd.argc && c->role != LSA_ROLE_PRIMARY)
    return fail(err, errlen, "%s is for the primary only", "degraded_cmd");
  return 0;
}
