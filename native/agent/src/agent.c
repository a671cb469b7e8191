/* lockstep-agent: the host agent of a COLO pair. The main loop; I/O lives in util.c, net.c,
 * status.c and action.c, and every decision is lsa_decide() (decide.c). */
#include "agent.h"

static volatile sig_atomic_t g_stop, g_reopen;
static void on_signal(int sig) { g_stop = 1; (void)sig; }
static void on_hup(int sig) { g_reopen = 1; (void)sig; }

/* ---------------------------------------------------------------- decisions */

void run_decide(agent *a, int64_t now) {
  lsa_decision d = lsa_decide(&a->dconf, &a->st, &a->in, now);
  a->in.child_done = 0;
  if (d.changed) {
    decision_rec *r = &a->dec[a->ndec++ % MAX_DECISIONS];
    r->wall_ms = wall_ms();
    r->from = a->st.kind;
    r->to = d.next.kind;
    r->action = d.action;
    snprintf(r->reason, sizeof r->reason, "%s", d.next.reason);
    char xo[24] = "never", pub[24] = "never", w[24] = "never";
    if (a->in.heard[0] >= 0) snprintf(xo, sizeof xo, "%lld", (long long)(now - a->in.heard[0]));
    if (a->in.heard[1] >= 0) snprintf(pub, sizeof pub, "%lld", (long long)(now - a->in.heard[1]));
    if (a->in.witness_ok_at >= 0)
      snprintf(w, sizeof w, "%lld", (long long)(now - a->in.witness_ok_at));
    logf_(a, "decision %s -> %s action=%s crossover_ms=%s public_ms=%s witness_ms=%s: %s",
          lsa_kind_name(a->st.kind), lsa_kind_name(d.next.kind), lsa_action_name(d.action), xo,
          pub, w, d.next.reason);
  }
  a->st = d.next;
  if (d.action != LSA_A_NONE) start_action(a, d.action, now);
}

/* The local VM (vm_pidfile), checked every interval. While it is not alive we send nothing
 * (no heartbeats, no witness pings): the peer sees exactly what a dead host looks like and
 * decides. We never act ourselves meanwhile (there is no VM here to fail over to), and an armed
 * state drops to waiting: a VM that comes back is not in lockstep until the crossover is steady
 * again for rearm_ms (and the peer does not say SOLO). An acted state is kept (SOLO stays). */
static void vm_watch(agent *a, int64_t now) {
  long pid;
  int v = vm_probe(a->cfg.vm_pidfile, &pid);
  if (v == VM_UNKNOWN) return;
  /* a process seen dead does not come back: a QEMU torn down after kill -9 can look alive to
   * /proc for a moment (seen: 20 ms of "up" 1.6 s after the kill, under load) */
  if (v == VM_UP && a->vm == VM_DOWN && pid == a->vm_pid && a->vm_dead_pid == pid) return;
  if (v == VM_DOWN && pid > 0) a->vm_dead_pid = pid;
  if (v == a->vm && pid == a->vm_pid) return;
  int was = a->vm;
  a->vm = v;
  a->vm_pid = pid;
  a->vm_since = now;
  if (v == VM_UP) {
    logf_(a, "vm up: pid %ld (%s): heartbeats and witness pings on", pid, a->cfg.vm_pidfile);
    return;
  }
  if (was == VM_DOWN) return; /* (pid file changed, still not alive) */
  logf_(a, "vm down: %s%s: silent from now on (the peer decides), no action here",
        pid > 0 ? "process gone, pid file names " : "no live pid in ", a->cfg.vm_pidfile);
  if (!lsa_kind_solo(a->st.kind) && a->st.kind != LSA_K_WAITING) {
    decision_rec *r = &a->dec[a->ndec++ % MAX_DECISIONS];
    r->wall_ms = wall_ms();
    r->from = a->st.kind;
    r->to = LSA_K_WAITING;
    r->action = LSA_A_NONE;
    snprintf(r->reason, sizeof r->reason, "local VM not running: silent, disarmed");
    logf_(a, "decision %s -> waiting action=none: %s", lsa_kind_name(a->st.kind), r->reason);
    lsa_state_init(&a->st, now);
    snprintf(a->st.reason, sizeof a->st.reason, "%s", r->reason);
  } else if (a->st.kind == LSA_K_WAITING) {
    snprintf(a->st.reason, sizeof a->st.reason, "local VM not running: silent, disarmed");
  }
}

/* The next moment lsa_decide could change its mind without a new packet arriving. */
static int64_t next_deadline(const agent *a, int64_t now) {
  int64_t t = now + 50;
  const int64_t cand[4] = {
      a->in.heard[0] >= 0 ? a->in.heard[0] + a->dconf.timeout_ms : -1,
      a->in.heard[1] >= 0 ? a->in.heard[1] + a->dconf.timeout_ms : -1,
      a->in.witness_ok_at >= 0 ? a->in.witness_ok_at + a->dconf.witness_timeout_ms : -1,
      a->st.xo_up_since >= 0 ? a->st.xo_up_since + a->dconf.rearm_ms : -1};
  for (int i = 0; i < 4; i++)
    if (cand[i] > now && cand[i] < t) t = cand[i];
  return t;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
  static agent A;
  agent *a = &A;
  char err[512];
  const char *config_path = NULL;
  int once = 0, check = 0;
  const char *serve_addr = NULL;
  lsa_config_defaults(&a->cfg);

  /* pass 1: the file and the mode flags; pass 2 (after the file): --key=value overrides */
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "--help") || !strcmp(s, "-h")) { usage(stdout); return 0; }
    if (!strcmp(s, "--version")) { puts("lockstep-agent " AGENT_VERSION); return 0; }
    if (!strcmp(s, "--once-status")) once = 1;
    else if (!strcmp(s, "--hold")) once = 2;
    else if (!strcmp(s, "--check-config")) check = 1;
    else if (!strncmp(s, "--config=", 9)) config_path = s + 9;
    else if (!strcmp(s, "--config") && i + 1 < argc) config_path = argv[++i];
    else if (!strcmp(s, "--witness-serve")) {
      a->witness_mode = 1;
      if (i + 1 < argc && argv[i + 1][0] != '-') serve_addr = argv[++i];
    } else if (!strncmp(s, "--witness-serve=", 16)) {
      a->witness_mode = 1;
      serve_addr = s + 16;
    } else if (!strncmp(s, "--", 2) && !strchr(s, '=') && i + 1 < argc) i++; /* value */
    else if (strncmp(s, "--", 2)) {
      fprintf(stderr, "lockstep-agent: unexpected argument '%s'\n", s);
      usage(stderr);
      return 2;
    }
  }
  if (config_path) {
    static char text[65536];
    size_t len;
    if (read_file(config_path, text, sizeof text, &len, err, sizeof err) ||
        lsa_config_parse(&a->cfg, text, len, err, sizeof err)) {
      fprintf(stderr, "lockstep-agent: %s: %s\n", config_path, err);
      return 2;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "--once-status") || !strcmp(s, "--hold") || !strcmp(s, "--check-config")) continue;
    if (!strncmp(s, "--config", 8)) {
      if (!strcmp(s, "--config")) i++;
      continue;
    }
    if (!strncmp(s, "--witness-serve", 15)) {
      if (!strcmp(s, "--witness-serve") && i + 1 < argc && argv[i + 1][0] != '-') i++;
      continue;
    }
    char key[64];
    const char *val;
    const char *eq = strchr(s, '=');
    if (eq) {
      snprintf(key, sizeof key, "%.*s", (int)(eq - s - 2), s + 2);
      val = eq + 1;
    } else if (i + 1 < argc) {
      snprintf(key, sizeof key, "%s", s + 2);
      val = argv[++i];
    } else {
      fprintf(stderr, "lockstep-agent: %s needs a value\n", s);
      return 2;
    }
    if (lsa_config_set(&a->cfg, key, val, err, sizeof err)) {
      fprintf(stderr, "lockstep-agent: --%s: %s\n", key, err);
      return 2;
    }
  }
  if (serve_addr && lsa_addr_parse(serve_addr, &a->cfg.witness_listen)) {
    fprintf(stderr, "lockstep-agent: --witness-serve: bad address '%s'\n", serve_addr);
    return 2;
  }
  if (once) return once_status(&a->cfg, once == 2 ? "hold\n" : "status\n");

  if (a->cfg.secret_file[0]) {
    if (a->cfg.secret_len) {
      fprintf(stderr, "lockstep-agent: set secret or secret_file, not both\n");
      return 2;
    }
    char sb[LSA_SECRET_MAX + 2];
    size_t sl;
    if (read_file(a->cfg.secret_file, sb, sizeof sb, &sl, err, sizeof err)) {
      fprintf(stderr, "lockstep-agent: secret_file: %s\n", err);
      return 2;
    }
    while (sl && (sb[sl - 1] == '\n' || sb[sl - 1] == '\r' || sb[sl - 1] == ' ')) sl--;
    if (sl > LSA_SECRET_MAX) sl = LSA_SECRET_MAX;
    memcpy(a->cfg.secret, sb, sl);
    a->cfg.secret_len = sl;
    lsa_wipe(sb, sizeof sb);
  }
  if (lsa_config_check(&a->cfg, a->witness_mode, err, sizeof err)) {
    fprintf(stderr, "lockstep-agent: config: %s\n", err);
    return 2;
  }
  if (check) {
    print_config(&a->cfg, a->witness_mode);
    return 0;
  }
  if (a->cfg.log_file[0]) {
    a->log = fopen(a->cfg.log_file, "ae");
    if (!a->log) {
      fprintf(stderr, "lockstep-agent: log_file %s: %s\n", a->cfg.log_file, strerror(errno));
      return 2;
    }
  }
  hmac_sha256_key_init(&a->key, a->cfg.secret, a->cfg.secret_len);
  lsa_wipe(a->cfg.secret, sizeof a->cfg.secret);

  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  struct sigaction sh = {.sa_handler = on_hup};
  sigaction(SIGHUP, &sh, NULL); /* reopen the log (logrotate) */
  signal(SIGPIPE, SIG_IGN);

  a->start_mono = mono_ms();
  /* each run starts its seqs at a random point (62 bits: never wraps); the wall clock is
   * not trusted for this, a clock stepped back must not make us look like a replay */
  if (getrandom(&a->seq, sizeof a->seq, 0) != (ssize_t)sizeof a->seq) {
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    a->seq = (uint64_t)rt.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 32 ^ (uint64_t)rt.tv_sec;
  }
  a->seq = (a->seq & ((1ULL << 62) - 1)) | 1;
  a->seq0 = a->seq;
  a->pfd[0] = a->pfd[1] = a->wfd = a->sfd = a->lfd = -1;
  for (int i = 0; i < MAX_CLIENTS; i++) a->clients[i].fd = -1;
  a->in.heard[0] = a->in.heard[1] = -1;
  a->in.witness_ok_at = a->in.witness_ok_sent = -1;
  a->in.witness_peer_age = LSA_AGE_NEVER;
  for (int i = 0; i < 3; i++) a->role_heard[i] = -1;

  /* a paging stall must not look like a dead peer (root only: no RLIMIT_MEMLOCK surprises) */
  if (!a->witness_mode && geteuid() == 0 && mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
    logf_(a, "note: mlockall failed (%s); running unlocked", strerror(errno));

  int rc = 1;
  if (a->witness_mode) {
    a->sfd = udp_socket(&a->cfg.witness_listen, 0, err, sizeof err);
    if (a->sfd < 0) goto fatal;
    logf_(a, "witness serving cluster %s on %s", a->cfg.cluster, a->cfg.witness_listen.text);
  } else {
    a->plocal[0] = &a->cfg.crossover_local;
    a->ppeer[0] = &a->cfg.crossover_peer;
    a->plocal[1] = &a->cfg.public_local;
    a->ppeer[1] = &a->cfg.public_peer;
    for (int i = 0; i < 2; i++)
      if ((a->pfd[i] = udp_socket(a->plocal[i], 0, err, sizeof err)) < 0) goto fatal;
    if (a->cfg.witness.set &&
        (a->wfd = udp_socket(NULL, a->cfg.witness.ss.ss_family, err, sizeof err)) < 0)
      goto fatal;
    a->dconf.role = a->cfg.role;
    a->dconf.timeout_ms = a->cfg.timeout_ms;
    a->dconf.witness_timeout_ms =
        a->cfg.witness_timeout_ms ? a->cfg.witness_timeout_ms : a->cfg.timeout_ms;
    a->dconf.rearm_ms = a->cfg.rearm_ms;
    a->dconf.has_witness = a->cfg.witness.set;
    a->dconf.degraded_action = a->cfg.degraded_cmd.argc > 0;
    lsa_state_init(&a->st, a->start_mono);
    if (!a->cfg.witness.set)
      logf_(a, "warning: no witness configured: this agent reports but never acts");
    if (a->cfg.role == LSA_ROLE_SECONDARY && !a->cfg.failover_cmd.argc)
      logf_(a, "warning: no failover_cmd: a takeover would only be logged");
    if (a->cfg.role == LSA_ROLE_PRIMARY && !a->cfg.continue_cmd.argc)
      logf_(a, "warning: no continue_cmd: continue-alone would only be logged");
    logf_(a,
          "agent %s: cluster %s, crossover %s -> %s, public %s -> %s, witness %s, "
          "interval %lld ms, timeout %lld ms",
          a->cfg.role == LSA_ROLE_PRIMARY ? "primary" : "secondary", a->cfg.cluster,
          a->cfg.crossover_local.text, a->cfg.crossover_peer.text, a->cfg.public_local.text,
          a->cfg.public_peer.text, a->cfg.witness.set ? a->cfg.witness.text : "(none: never acts)",
          (long long)a->cfg.interval_ms, (long long)a->cfg.timeout_ms);
  }
  a->lfd = status_listen(a, err, sizeof err);
  if (a->lfd == -2) goto fatal;

  int64_t next_hb = mono_ms(), next_ping = next_hb, next_vm = next_hb;
  if (!a->witness_mode && a->cfg.vm_pidfile[0]) {
    a->vm = VM_DOWN; /* until the first probe says otherwise: a missing pid file = not up yet */
    a->vm_pid = -1;
    a->vm_since = a->start_mono;
    long pid;
    if (vm_probe(a->cfg.vm_pidfile, &pid) == VM_UP) { /* (unknown at start: silent until known) */
      a->vm = VM_UP;
      a->vm_pid = pid;
      logf_(a, "vm up: pid %ld (%s)", pid, a->cfg.vm_pidfile);
    } else {
      logf_(a, "vm not running yet (%s): silent and never acting until it is", a->cfg.vm_pidfile);
      snprintf(a->st.reason, sizeof a->st.reason, "local VM not running: silent, disarmed");
    }
  }
  const int64_t wint = a->cfg.witness_interval_ms ? a->cfg.witness_interval_ms : a->cfg.interval_ms;
  while (!g_stop) {
    if (g_reopen) {
      g_reopen = 0;
      if (a->log && a->cfg.log_file[0]) {
        FILE *f = fopen(a->cfg.log_file, "ae");
        if (f) { fclose(a->log); a->log = f; logf_(a, "log reopened (SIGHUP)"); }
      }
    }
    int64_t now = mono_ms();
    seq_hist_tick(a, now);
    if (!a->witness_mode) {
      if (a->vm != VM_UNWATCHED && now >= next_vm) {
        vm_watch(a, now);
        next_vm = now + a->cfg.interval_ms;
      }
      const int vm_ok = a->vm != VM_DOWN;
      if (now >= next_hb) {
        if (vm_ok) send_heartbeats(a, now);
        next_hb += a->cfg.interval_ms;
        if (next_hb <= now) next_hb = now + a->cfg.interval_ms; /* we were stalled: no burst */
      }
      if (a->wfd >= 0 && now >= next_ping) {
        if (vm_ok) send_ping(a, now);
        next_ping += wint;
        if (next_ping <= now) next_ping = now + wint;
      }
      reap_child(a, now);
      /* VM down: no decisions (never acts), except finishing an action already running */
      if (vm_ok || a->st.kind == LSA_K_ACTING) run_decide(a, now);
    }
    struct pollfd pf[5 + MAX_CLIENTS];
    int idx[5 + MAX_CLIENTS], n = 0;
    int srcs[4] = {a->pfd[0], a->pfd[1], a->wfd, a->sfd};
    for (int i = 0; i < 4; i++)
      if (srcs[i] >= 0) { pf[n] = (struct pollfd){.fd = srcs[i], .events = POLLIN}; idx[n++] = i; }
    if (a->lfd >= 0) { pf[n] = (struct pollfd){.fd = a->lfd, .events = POLLIN}; idx[n++] = 4; }
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (a->clients[i].fd >= 0) {
        pf[n] = (struct pollfd){.fd = a->clients[i].fd, .events = POLLIN};
        idx[n++] = 5 + i;
      }
    int64_t wake = now + 1000;
    if (!a->witness_mode) {
      wake = next_deadline(a, now);
      if (next_hb < wake) wake = next_hb;
      if (a->wfd >= 0 && next_ping < wake) wake = next_ping;
      if (a->vm != VM_UNWATCHED && next_vm < wake) wake = next_vm;
      if (a->child > 0 && now + 10 < wake) wake = now + 10;
    }
    int timeout = wake > now ? (int)(wake - now) : 0;
    int pr = poll(pf, (nfds_t)n, timeout);
    if (pr < 0 && errno != EINTR) {
      snprintf(err, sizeof err, "poll: %s", strerror(errno));
      goto fatal;
    }
    now = mono_ms();
    for (int k = 0; pr > 0 && k < n; k++) {
      if (!pf[k].revents) continue;
      if (idx[k] < 4) drain(a, idx[k], now);
      else if (idx[k] == 4) status_accept(a);
      else client_read(a, &a->clients[idx[k] - 5]);
    }
  }
  logf_(a, "stopping (signal)");
  rc = 0;
  goto out;
fatal:
  logf_(a, "fatal: %s", err);
  fprintf(stderr, "lockstep-agent: %s\n", err);
out:
  if (a->lfd >= 0) {
    close(a->lfd);
    unlink(a->cfg.status_socket);
  }
  if (a->child > 0)
    logf_(a, "leaving the running action (pid %d) alone", (int)a->child);
  return rc;
}

