/* The status JSON and the unix status socket the app reads over SSH. */
#include "agent.h"

/* ---------------------------------------------------------------- status JSON */

void json_age(jbuf *b, const char *key, int64_t t, int64_t now) {
  jb_key(b, key);
  if (t < 0) jb_raw(b, "null");
  else jb_printf(b, "%lld", (long long)(now - t));
}

void status_json(agent *a, jbuf *b) {
  int64_t now = mono_ms();
  char ts[32];
  fmt_wall(wall_ms(), ts);
  jb_raw(b, "{\"v\":1,\"agent\":\"lockstep-agent\",\"version\":\"" AGENT_VERSION "\",");
  jb_key(b, "mode");
  jb_str(b, a->witness_mode ? "witness" : "peer");
  jb_raw(b, ",");
  jb_key(b, "now");
  jb_str(b, ts);
  jb_printf(b, ",\"uptime_ms\":%lld,", (long long)(now - a->start_mono));
  jb_key(b, "cluster");
  jb_str(b, a->cfg.cluster);
  if (a->witness_mode) {
    jb_raw(b, ",\"listen\":");
    jb_str(b, a->cfg.witness_listen.text);
    jb_raw(b, ",\"state\":\"serving\",\"heard\":{");
    json_age(b, "primary", a->role_heard[LSA_ROLE_PRIMARY], now);
    jb_raw(b, ",");
    json_age(b, "secondary", a->role_heard[LSA_ROLE_SECONDARY], now);
    jb_printf(b, "},\"pongs\":%llu", (unsigned long long)a->served);
  } else {
    const lsa_config *c = &a->cfg;
    jb_raw(b, ",\"role\":");
    jb_str(b, c->role == LSA_ROLE_PRIMARY ? "primary" : "secondary");
    jb_raw(b, ",\"state\":");
    jb_str(b, lsa_kind_name(a->st.kind));
    jb_printf(b, ",\"armed\":%s,\"held\":%s,\"state_for_ms\":%lld,\"reason\":",
              lsa_kind_armed(a->st.kind) ? "true" : "false", a->in.held ? "true" : "false",
              (long long)(now - a->st.since));
    jb_str(b, a->st.reason);
    /* the local VM: null = not watched (no vm_pidfile) */
    jb_raw(b, ",\"vm\":");
    if (a->vm == VM_UNWATCHED) jb_raw(b, "null");
    else jb_str(b, a->vm == VM_UP ? "up" : "down");
    if (a->vm != VM_UNWATCHED) {
      jb_raw(b, ",\"vm_pid\":");
      if (a->vm_pid > 0) jb_printf(b, "%ld", a->vm_pid);
      else jb_raw(b, "null");
      jb_printf(b, ",\"vm_for_ms\":%lld", (long long)(now - a->vm_since));
    }
    jb_raw(b, ",\"paths\":{");
    static const char *const pname[2] = {"crossover", "public"};
    for (int i = 0; i < 2; i++) {
      if (i) jb_raw(b, ",");
      jb_key(b, pname[i]);
      jb_raw(b, "{\"local\":");
      jb_str(b, a->plocal[i]->text);
      jb_raw(b, ",\"peer\":");
      jb_str(b, a->ppeer[i]->text);
      jb_raw(b, ",");
      json_age(b, "last_heard_ms", a->in.heard[i], now);
      jb_raw(b, ",\"peer_hears_us_ms\":");
      if (a->in.heard[i] < 0 || a->hears_us[i] == LSA_AGE_NEVER) jb_raw(b, "null");
      else jb_printf(b, "%u", a->hears_us[i]);
      jb_raw(b, ",\"peer_state\":");
      if (a->in.heard[i] < 0) jb_raw(b, "null");
      else jb_str(b, lsa_kind_name(a->peer_state[i]));
      jb_printf(b, ",\"rx\":%llu,\"tx_errors\":%llu}", (unsigned long long)a->rx[i],
                (unsigned long long)a->tx_err[i]);
    }
    jb_raw(b, "},\"witness\":");
    if (!c->witness.set) {
      jb_raw(b, "null");
    } else {
      jb_raw(b, "{\"address\":");
      jb_str(b, c->witness.text);
      int reach = a->in.witness_ok_at >= 0 &&
                  now - a->in.witness_ok_at < a->dconf.witness_timeout_ms;
      jb_printf(b, ",\"reachable\":%s,", reach ? "true" : "false");
      json_age(b, "last_ok_ms", a->in.witness_ok_at, now);
      jb_raw(b, ",\"rtt_ms\":");
      if (a->in.witness_ok_at < 0) jb_raw(b, "null");
      else jb_printf(b, "%.3f", a->witness_rtt_ms);
      jb_raw(b, ",\"peer_age_ms\":");
      if (a->in.witness_ok_at < 0 || a->in.witness_peer_age == LSA_AGE_NEVER) jb_raw(b, "null");
      else jb_printf(b, "%u", a->in.witness_peer_age);
      jb_printf(b, ",\"rx\":%llu,\"tx_errors\":%llu}", (unsigned long long)a->wrx,
                (unsigned long long)a->wtx_err);
    }
    jb_printf(b,
              ",\"timing\":{\"interval_ms\":%lld,\"timeout_ms\":%lld,\"witness_interval_ms\":%lld,"
              "\"witness_timeout_ms\":%lld,\"rearm_ms\":%lld}",
              (long long)c->interval_ms, (long long)c->timeout_ms,
              (long long)(c->witness_interval_ms ? c->witness_interval_ms : c->interval_ms),
              (long long)a->dconf.witness_timeout_ms, (long long)c->rearm_ms);
    jb_raw(b, ",\"commands\":{");
    const lsa_cmd *cmds[3] = {&c->failover_cmd, &c->continue_cmd, &c->degraded_cmd};
    static const char *const cname[3] = {"failover", "continue", "degraded"};
    for (int i = 0; i < 3; i++) {
      if (i) jb_raw(b, ",");
      jb_key(b, cname[i]);
      if (cmds[i]->argc) jb_str(b, cmds[i]->argv[0]);
      else jb_raw(b, "null");
    }
    jb_raw(b, "},\"action\":{\"running\":");
    jb_raw(b, a->child > 0 ? "true" : "false");
    jb_raw(b, ",\"last\":");
    if (a->last_action == LSA_A_NONE) {
      jb_raw(b, "null");
    } else {
      jb_str(b, lsa_action_name(a->last_action));
      jb_printf(b, ",\"rc\":");
      if (a->child > 0) jb_raw(b, "null");
      else jb_printf(b, "%d", a->last_rc);
      jb_printf(b, ",\"duration_ms\":%lld", (long long)a->last_action_ms);
      jb_printf(b, ",\"started_at\":%lld,\"finished_at\":", (long long)a->action_started_wall);
      if (a->child > 0 || a->action_finished_wall < 0) jb_raw(b, "null");
      else jb_printf(b, "%lld", (long long)a->action_finished_wall);
    }
    jb_raw(b, "}");
  }
  jb_raw(b, ",\"rejected\":{");
  for (int i = 1; i < REJ_COUNT; i++) {
    if (i > 1) jb_raw(b, ",");
    jb_key(b, rej_name(i));
    jb_printf(b, "%llu", (unsigned long long)a->rej[i]);
  }
  jb_raw(b, "},\"decisions\":[");
  unsigned n = a->ndec < MAX_DECISIONS ? a->ndec : MAX_DECISIONS;
  for (unsigned k = 0; k < n; k++) {
    const decision_rec *d = &a->dec[(a->ndec - n + k) % MAX_DECISIONS];
    char dts[32];
    fmt_wall(d->wall_ms, dts);
    if (k) jb_raw(b, ",");
    jb_raw(b, "{\"at\":");
    jb_str(b, dts);
    jb_raw(b, ",\"from\":");
    jb_str(b, lsa_kind_name(d->from));
    jb_raw(b, ",\"to\":");
    jb_str(b, lsa_kind_name(d->to));
    jb_raw(b, ",\"action\":");
    jb_str(b, lsa_action_name(d->action));
    jb_raw(b, ",\"reason\":");
    jb_str(b, d->reason);
    jb_raw(b, "}");
  }
  jb_raw(b, "]}\n");
}

/* ---------------------------------------------------------------- status socket */

int status_listen(agent *a, char *err, size_t n) {
  const char *path = a->cfg.status_socket;
  if (!*path) return -1; /* disabled */
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || set_flags(fd) < 0) {
    snprintf(err, n, "socket: %s", strerror(errno));
    return -2;
  }
  if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
    if (errno != EADDRINUSE) goto fail;
    /* stale socket, or another agent? */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
      close(probe);
      close(fd);
      snprintf(err, n, "%s: another agent is running (its status socket answers)", path);
      return -2;
    }
    if (probe >= 0) close(probe);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) goto fail;
  }
  chmod(path, 0660);
  if (listen(fd, MAX_CLIENTS) < 0) goto fail;
  return fd;
fail:
  snprintf(err, n, "status socket %s: %s", path, strerror(errno));
  close(fd);
  return -2;
}

void client_close(client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->inlen = 0;
}

void client_send_status(agent *a, client *c) {
  char mem[STATUS_MAX];
  jbuf b;
  jb_init(&b, mem, sizeof mem);
  status_json(a, &b);
  if (!jb_ok(&b)) {
    jb_init(&b, mem, sizeof mem);
    jb_raw(&b, "{\"v\":1,\"error\":\"status too large\"}\n");
  }
  ssize_t w = send(c->fd, mem, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w != (ssize_t)b.len) client_close(c); /* a client that does not read is dropped */
  c->answered = 1;
}

void client_read(agent *a, client *c) {
  for (;;) {
    ssize_t r = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r <= 0) { /* EOF: answer once if nothing was asked, then close */
      if (!c->answered) client_send_status(a, c);
      client_close(c);
      return;
    }
    c->inlen += (size_t)r;
    char *nl;
    while (c->fd >= 0 && (nl = memchr(c->in, '\n', c->inlen))) {
      size_t l = (size_t)(nl - c->in);
      char line[64];
      size_t k = l < sizeof line - 1 ? l : sizeof line - 1;
      memcpy(line, c->in, k);
      line[k] = 0;
      while (k && (line[k - 1] == '\r' || line[k - 1] == ' ')) line[--k] = 0;
      memmove(c->in, nl + 1, c->inlen - l - 1);
      c->inlen -= l + 1;
      if (!strcmp(line, "status") || !*line) {
        client_send_status(a, c);
      } else if (!strcmp(line, "hold")) {
        /* the app is about to restart or stop the agents (or the VMs): disarm now, for good */
        if (!a->in.held) logf_(a, "hold: asked over the status socket: disarmed until restarted");
        a->in.held = 1;
        if (!a->witness_mode) run_decide(a, mono_ms());
        client_send_status(a, c);
      } else if (!strcmp(line, "quit")) {
        client_close(c);
      } else {
        static const char msg[] = "{\"v\":1,\"error\":\"unknown query (try: status)\"}\n";
        if (send(c->fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof msg - 1)
          client_close(c);
        c->answered = 1;
      }
    }
    if (c->fd >= 0 && c->inlen == sizeof c->in) {
      client_close(c);
      return;
    }
    if (c->fd < 0) return;
  }
}

void status_accept(agent *a) {
  for (;;) {
    int fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int placed = 0;
    for (int i = 0; i < MAX_CLIENTS && !placed; i++)
      if (a->clients[i].fd < 0) {
        a->clients[i] = (client){.fd = fd};
        placed = 1;
      }
    if (!placed) close(fd);
  }
}

