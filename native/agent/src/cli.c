/* lockstep-agent: the command-line side (usage, --once-status / --hold, --check-config output). */
#include "agent.h"

void usage(FILE *f) {
  fprintf(f,
          "usage: lockstep-agent [--config FILE] [--KEY=VALUE ...]\n"
          "       lockstep-agent --witness-serve [ADDR:PORT] [--config FILE] [--KEY=VALUE ...]\n"
          "       lockstep-agent --once-status [--config FILE | --status-socket PATH]\n"
          "       lockstep-agent --hold [--config FILE | --status-socket PATH]   (disarm until restarted)\n"
          "       lockstep-agent --check-config [--config FILE] [--KEY=VALUE ...]\n"
          "Keys (file: key = value; flags: --key=value or --key value, '-' or '_'):\n"
          "  role cluster_id secret secret_file crossover_local crossover_peer public_local\n"
          "  public_peer witness witness_listen interval_ms timeout_ms witness_interval_ms\n"
          "  witness_timeout_ms rearm_ms action_timeout_ms max_clock_skew_ms failover_cmd\n"
          "  continue_cmd degraded_cmd status_socket log_file vm_pidfile\n");
}

int once_status(const lsa_config *c, const char *query) {
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", c->status_socket);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = {.tv_sec = 2};
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
      write(fd, query, strlen(query)) != (ssize_t)strlen(query)) {
    char mem[512];
    jbuf b;
    jb_init(&b, mem, sizeof mem);
    jb_raw(&b, "{\"v\":1,\"agent\":\"lockstep-agent\",\"state\":\"not-running\",\"error\":");
    char e[300];
    snprintf(e, sizeof e, "%s: %s", c->status_socket, strerror(errno));
    jb_str(&b, e);
    jb_raw(&b, "}\n");
    fputs(mem, stdout);
    if (fd >= 0) close(fd);
    return 3;
  }
  char buf[STATUS_MAX];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t r = read(fd, buf + got, sizeof buf - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (memchr(buf, '\n', got)) break;
  }
  close(fd);
  char *nl = memchr(buf, '\n', got);
  if (!nl) {
    fprintf(stderr, "lockstep-agent: no status line from %s\n", c->status_socket);
    return 3;
  }
  fwrite(buf, 1, (size_t)(nl - buf) + 1, stdout);
  return 0;
}

void print_config(const lsa_config *c, int witness_mode) {
  char mem[4096];
  jbuf b;
  jb_init(&b, mem, sizeof mem);
  jb_raw(&b, "{\"mode\":");
  jb_str(&b, witness_mode ? "witness" : "peer");
  jb_raw(&b, ",\"role\":");
  jb_str(&b, c->role == LSA_ROLE_PRIMARY ? "primary" : c->role ? "secondary" : "");
  jb_raw(&b, ",\"cluster_id\":");
  jb_str(&b, c->cluster);
  jb_printf(&b, ",\"secret_bytes\":%zu", c->secret_len);
  const lsa_addr *ad[6] = {&c->crossover_local, &c->crossover_peer, &c->public_local,
                           &c->public_peer,     &c->witness,        &c->witness_listen};
  static const char *const an[6] = {"crossover_local", "crossover_peer", "public_local",
                                    "public_peer",     "witness",        "witness_listen"};
  for (int i = 0; i < 6; i++) {
    jb_raw(&b, ",");
    jb_key(&b, an[i]);
    jb_str(&b, ad[i]->set ? ad[i]->text : "");
  }
  jb_printf(&b,
            ",\"interval_ms\":%lld,\"timeout_ms\":%lld,\"witness_interval_ms\":%lld,"
            "\"witness_timeout_ms\":%lld,\"rearm_ms\":%lld,\"action_timeout_ms\":%lld",
            (long long)c->interval_ms, (long long)c->timeout_ms, (long long)c->witness_interval_ms,
            (long long)c->witness_timeout_ms, (long long)c->rearm_ms,
            (long long)c->action_timeout_ms);
  const lsa_cmd *cm[3] = {&c->failover_cmd, &c->continue_cmd, &c->degraded_cmd};
  static const char *const cn[3] = {"failover_cmd", "continue_cmd", "degraded_cmd"};
  for (int i = 0; i < 3; i++) {
    jb_raw(&b, ",");
    jb_key(&b, cn[i]);
    jb_raw(&b, "[");
    for (int k = 0; k < cm[i]->argc; k++) {
      if (k) jb_raw(&b, ",");
      jb_str(&b, cm[i]->argv[k]);
    }
    jb_raw(&b, "]");
  }
  jb_raw(&b, ",\"status_socket\":");
  jb_str(&b, c->status_socket);
  jb_raw(&b, ",\"vm_pidfile\":");
  jb_str(&b, c->vm_pidfile);
  jb_raw(&b, "}\n");
  fputs(mem, stdout);
}
