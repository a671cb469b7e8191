/* lockstep-agent: the host agent of a COLO pair. I/O only: sockets, timers, the action's
 * child process, the log and the status socket. Every decision is lsa_decide() (decide.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "json.h"
#include "wire.h"

#define AGENT_VERSION "1.0.0"
#define MAX_CLIENTS 8
#define MAX_DECISIONS 16
#define MAX_PINGS 64
#define STATUS_MAX 16384
#define FRESH_MS 2000 /* an echo proves freshness if it is one of our seqs this recent */
#define HIST 64       /* seq samples, one per 100 ms */

/* beyond lsa_verdict: wrong source address; clock skew (if checked); authentic but from an
 * unknown run of the sender without a fresh echo (an old replay, or a restart not yet
 * confirmed: normal for one or two datagrams after a restart) */
enum { REJ_WRONG_SOURCE = LSA_E_COUNT, REJ_SKEW, REJ_UNPROVEN, REJ_COUNT };
static const char *rej_name(int i) {
  return i == REJ_WRONG_SOURCE ? "wrong_source"
         : i == REJ_SKEW       ? "clock_skew"
         : i == REJ_UNPROVEN   ? "unproven"
                               : lsa_verdict_name(i);
}

typedef struct {
  int fd;
  char in[512];
  size_t inlen;
  int answered;
} client;

typedef struct {
  int64_t wall_ms;
  enum lsa_kind from, to;
  enum lsa_action action;
  char reason[160];
} decision_rec;

typedef struct {
  lsa_config cfg;
  int witness_mode;
  hmac_sha256_key key;
  lsa_dconf dconf;
  lsa_state st;
  lsa_inputs in;
  int64_t start_mono;
  uint64_t seq, seq0;
  struct { int64_t t; uint64_t seq; } hist[HIST];
  unsigned hist_n;
  /* peer paths: 0 crossover, 1 public */
  int pfd[2];
  const lsa_addr *plocal[2], *ppeer[2];
  lsa_replay replay[2];
  uint64_t echo_out[2]; /* the peer's latest seq per path, echoed in our heartbeats */
  uint64_t rx[2], tx_err[2];
  uint32_t hears_us[2]; /* the peer's age of our heartbeats, from its last message */
  uint8_t peer_state[2];
  /* witness client */
  int wfd;
  struct { uint64_t seq; int64_t sent; } ping[MAX_PINGS];
  unsigned ping_next;
  uint64_t witness_echo; /* the latest pong's seq, echoed in our pings */
  double witness_rtt_ms;
  uint64_t wtx_err, wrx;
  /* witness server */
  int sfd;
  int64_t role_heard[3]; /* by lsa_role: 1 primary, 2 secondary */
  lsa_replay role_replay[3];
  uint64_t served;
  /* rejects */
  uint64_t rej[REJ_COUNT];
  int64_t rej_logged_at[REJ_COUNT];
  /* action child */
  pid_t child;
  int64_t child_started;
  enum lsa_action child_action;
  int last_rc;
  int64_t last_action_ms;
  enum lsa_action last_action;
  /* status */
  int lfd;
  client clients[MAX_CLIENTS];
  decision_rec dec[MAX_DECISIONS];
  unsigned ndec;
  FILE *log;
} agent;

static volatile sig_atomic_t g_stop, g_reopen;
static void on_signal(int sig) { g_stop = 1; (void)sig; }
static void on_hup(int sig) { g_reopen = 1; (void)sig; }

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void fmt_wall(int64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static void logf_(agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(agent *a, const char *fmt, ...) {
  char ts[32];
  fmt_wall(wall_ms(), ts);
  FILE *f = a->log ? a->log : stderr;
  fprintf(f, "%s mono=%lld ", ts, (long long)(mono_ms() - a->start_mono));
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fflush(f);
}

static int set_flags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int udp_socket(const lsa_addr *bind_to, int family, char *err, size_t n) {
  int fd = socket(bind_to ? bind_to->ss.ss_family : family, SOCK_DGRAM, 0);
  if (fd < 0 || set_flags(fd) < 0) {
    snprintf(err, n, "socket: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  /* Heartbeats are latency-critical: ask for the interactive priority band. */
  int tos = 0x10;
  setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  int prio = 6;
  setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio);
  if (bind_to) {
    int one = 1;
    /* the local address may not exist yet (link down at boot): bind anyway */
    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&bind_to->ss, bind_to->len) < 0) {
      snprintf(err, n, "bind %s: %s", bind_to->text, strerror(errno));
      close(fd);
      return -1;
    }
  }
  return fd;
}

static int read_file(const char *path, char *buf, size_t cap, size_t *len, char *err,
                     size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, n, "%s: %s", path, strerror(errno));
    return -1;
  }
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf + got, cap - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(err, n, "%s: %s", path, strerror(errno));
      close(fd);
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
    if (got == cap) {
      snprintf(err, n, "%s: larger than %zu bytes", path, cap - 1);
      close(fd);
      return -1;
    }
  }
  close(fd);
  *len = got;
  return 0;
}

/* ---------------------------------------------------------------- status JSON */

static void json_age(jbuf *b, const char *key, int64_t t, int64_t now) {
  jb_key(b, key);
  if (t < 0) jb_raw(b, "null");
  else jb_printf(b, "%lld", (long long)(now - t));
}

static void status_json(agent *a, jbuf *b) {
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
    jb_printf(b, ",\"armed\":%s,\"state_for_ms\":%lld,\"reason\":",
              lsa_kind_armed(a->st.kind) ? "true" : "false", (long long)(now - a->st.since));
    jb_str(b, a->st.reason);
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

static int status_listen(agent *a, char *err, size_t n) {
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

static void client_close(client *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->inlen = 0;
}

static void client_send_status(agent *a, client *c) {
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

static void client_read(agent *a, client *c) {
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

static void status_accept(agent *a) {
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

/* ---------------------------------------------------------------- the action */

static void start_action(agent *a, enum lsa_action act, int64_t now) {
  const lsa_cmd *cmd = act == LSA_A_FAILOVER   ? &a->cfg.failover_cmd
                       : act == LSA_A_CONTINUE ? &a->cfg.continue_cmd
                                               : &a->cfg.degraded_cmd;
  a->last_action = act;
  a->child_action = act;
  a->child_started = now;
  if (!cmd->argc) {
    logf_(a, "action %s: no command configured; recorded as done", lsa_action_name(act));
    a->in.child_done = 1;
    a->in.child_rc = 0;
    a->last_rc = 0;
    a->last_action_ms = 0;
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    logf_(a, "action %s: fork failed: %s", lsa_action_name(act), strerror(errno));
    a->in.child_done = 1;
    a->in.child_rc = -1;
    a->last_rc = -1;
    return;
  }
  if (pid == 0) {
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    int lf = fileno(a->log ? a->log : stderr);
    dup2(lf, 1);
    dup2(lf, 2);
    char buf[32];
    setenv("LOCKSTEP_ACTION", lsa_action_name(act), 1);
    setenv("LOCKSTEP_ROLE", a->cfg.role == LSA_ROLE_PRIMARY ? "primary" : "secondary", 1);
    setenv("LOCKSTEP_CLUSTER", a->cfg.cluster, 1);
    setenv("LOCKSTEP_REASON", a->st.reason, 1);
    int64_t last = a->in.heard[0] > a->in.heard[1] ? a->in.heard[0] : a->in.heard[1];
    snprintf(buf, sizeof buf, "%lld", last < 0 ? -1LL : (long long)(now - last));
    setenv("LOCKSTEP_PEER_SILENT_MS", buf, 1);
    execv(cmd->argv[0], cmd->argv);
    fprintf(stderr, "lockstep-agent: exec %s: %s\n", cmd->argv[0], strerror(errno));
    _exit(127);
  }
  a->child = pid;
  logf_(a, "action %s: started %s (pid %d)", lsa_action_name(act), cmd->argv[0], (int)pid);
}

static void reap_child(agent *a, int64_t now) {
  if (a->child <= 0) return;
  int status = 0, killed = 0;
  pid_t r = waitpid(a->child, &status, WNOHANG);
  if (r < 0 && errno == EINTR) return;
  if (r == 0) {
    if (now - a->child_started <= a->cfg.action_timeout_ms) return;
    logf_(a, "action %s: no exit after %lld ms, killing pid %d", lsa_action_name(a->child_action),
          (long long)a->cfg.action_timeout_ms, (int)a->child);
    kill(-a->child, SIGKILL);
    kill(a->child, SIGKILL);
    while (waitpid(a->child, &status, 0) < 0 && errno == EINTR) {}
    killed = 1;
  }
  int rc = killed || r < 0           ? -1
           : WIFEXITED(status)       ? WEXITSTATUS(status)
           : WIFSIGNALED(status)     ? 128 + WTERMSIG(status)
                                     : -1;
  a->child = 0;
  a->in.child_done = 1;
  a->in.child_rc = rc;
  a->last_rc = rc;
  a->last_action_ms = now - a->child_started;
  logf_(a, "action %s: finished rc=%d after %lld ms", lsa_action_name(a->child_action), rc,
        (long long)a->last_action_ms);
}

/* ---------------------------------------------------------------- messages */

static void reject(agent *a, int why, const char *where, int64_t now) {
  a->rej[why]++;
  if (a->rej[why] == 1 || now - a->rej_logged_at[why] >= 1000) { /* <= 1 line/s per kind */
    a->rej_logged_at[why] = now;
    logf_(a, "rejected a datagram on %s: %s (total %llu)", where, rej_name(why),
          (unsigned long long)a->rej[why]);
  }
}

static void fill_msg(agent *a, lsa_msg *m, uint8_t type, uint8_t path) {
  memset(m, 0, sizeof *m);
  m->type = type;
  m->role = (uint8_t)(a->witness_mode ? LSA_ROLE_WITNESS : a->cfg.role);
  m->path = path;
  memcpy(m->cluster, a->cfg.cluster, sizeof m->cluster);
  m->seq = ++a->seq;
  m->wall_ms = (uint64_t)wall_ms();
  if (!a->witness_mode) {
    m->state = (uint8_t)a->st.kind;
    m->flags = lsa_kind_solo(a->st.kind) ? LSA_FLAG_SOLO : 0;
  }
}

/* One sample of our seq counter every 100 ms: what "recent" means for echoes. */
static void seq_hist_tick(agent *a, int64_t now) {
  if (a->hist_n && now - a->hist[(a->hist_n - 1) % HIST].t < 100) return;
  a->hist[a->hist_n % HIST].t = now;
  a->hist[a->hist_n % HIST].seq = a->seq;
  a->hist_n++;
}
/* Our seq as it was FRESH_MS ago (echoes above it are recent). */
static uint64_t seq_recent_floor(const agent *a, int64_t now) {
  uint64_t floor = a->seq0;
  unsigned n = a->hist_n < HIST ? a->hist_n : HIST;
  for (unsigned k = 0; k < n; k++) {
    unsigned i = (a->hist_n - n + k) % HIST;
    if (a->hist[i].t <= now - FRESH_MS) floor = a->hist[i].seq;
  }
  return floor;
}

static void send_heartbeats(agent *a, int64_t now) {
  for (int i = 0; i < 2; i++) {
    lsa_msg m;
    uint8_t buf[LSA_MSG_LEN];
    fill_msg(a, &m, LSA_T_HEARTBEAT, (uint8_t)(i == 0 ? LSA_PATH_CROSSOVER : LSA_PATH_PUBLIC));
    int64_t h = a->in.heard[i];
    m.echo = a->echo_out[i];
    m.age_ms = h < 0 ? LSA_AGE_NEVER : (uint32_t)(now - h > 0xFFFFFFFE ? 0xFFFFFFFE : now - h);
    lsa_encode(&m, &a->key, buf);
    if (sendto(a->pfd[i], buf, sizeof buf, MSG_DONTWAIT, (const struct sockaddr *)&a->ppeer[i]->ss,
               a->ppeer[i]->len) != (ssize_t)sizeof buf)
      a->tx_err[i]++;
  }
}

static void send_ping(agent *a, int64_t now) {
  lsa_msg m;
  uint8_t buf[LSA_MSG_LEN];
  fill_msg(a, &m, LSA_T_PING, LSA_PATH_WITNESS);
  m.echo = a->witness_echo;
  lsa_encode(&m, &a->key, buf);
  a->ping[a->ping_next].seq = m.seq;
  a->ping[a->ping_next].sent = now;
  a->ping_next = (a->ping_next + 1) % MAX_PINGS;
  if (sendto(a->wfd, buf, sizeof buf, MSG_DONTWAIT, (const struct sockaddr *)&a->cfg.witness.ss,
             a->cfg.witness.len) != (ssize_t)sizeof buf)
    a->wtx_err++;
}

static int skew_ok(agent *a, const lsa_msg *m) {
  if (!a->cfg.max_clock_skew_ms) return 1;
  int64_t d = (int64_t)m->wall_ms - wall_ms();
  if (d < 0) d = -d;
  return d <= a->cfg.max_clock_skew_ms;
}

/* Reads every pending datagram of one socket; which = 0/1 peer path, 2 witness client,
 * 3 witness server. */
static void drain(agent *a, int which, int64_t now) {
  static const char *const where[4] = {"crossover", "public", "witness", "witness-serve"};
  int fd = which < 2 ? a->pfd[which] : which == 2 ? a->wfd : a->sfd;
  for (int budget = 256; budget > 0; budget--) {
    uint8_t buf[LSA_MSG_LEN + 1];
    struct sockaddr_storage src;
    socklen_t sl = sizeof src;
    ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&src, &sl);
    if (r < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN, or an ICMP error reported on the socket */
    }
    if (which < 2 && !lsa_addr_same_ip(&src, a->ppeer[which])) {
      reject(a, REJ_WRONG_SOURCE, where[which], now);
      continue;
    }
    if (which == 2 && !lsa_addr_same_ip(&src, &a->cfg.witness)) {
      reject(a, REJ_WRONG_SOURCE, where[which], now);
      continue;
    }
    lsa_msg m;
    enum lsa_verdict v = lsa_decode(buf, (size_t)r, a->cfg.cluster, &a->key, &m);
    if (v != LSA_OK) {
      reject(a, v, where[which], now);
      continue;
    }
    if (which < 2) {
      uint8_t want_path = which == 0 ? LSA_PATH_CROSSOVER : LSA_PATH_PUBLIC;
      uint8_t peer_role = a->cfg.role == LSA_ROLE_PRIMARY ? LSA_ROLE_SECONDARY : LSA_ROLE_PRIMARY;
      if (m.type != LSA_T_HEARTBEAT || m.path != want_path || m.role != peer_role) {
        reject(a, LSA_E_UNEXPECTED, where[which], now);
        continue;
      }
      if (!skew_ok(a, &m)) { reject(a, REJ_SKEW, where[which], now); continue; }
      int rv = lsa_replay_check(&a->replay[which], m.seq);
      if (rv == LSA_RP_SEEN) {
        reject(a, LSA_E_REPLAY, where[which], now);
        continue;
      }
      if (rv == LSA_RP_UNKNOWN) {
        /* a new run of the peer (or an old replay): believe it only if it echoes one of
         * our recent seqs; until then echo its seq so it can prove itself next time (but
         * not while the current run is being heard: replays must not disturb the echo) */
        if (a->in.heard[which] < 0 || now - a->in.heard[which] >= a->cfg.timeout_ms)
          a->echo_out[which] = m.seq;
        if (!lsa_echo_fresh(m.echo, seq_recent_floor(a, now), a->seq)) {
          reject(a, REJ_UNPROVEN, where[which], now);
          continue;
        }
        lsa_replay_reset(&a->replay[which], m.seq);
        logf_(a, "%s: the peer's run is confirmed (seq %llu echoes ours)", where[which],
              (unsigned long long)m.seq);
      }
      a->echo_out[which] = a->replay[which].highest;
      a->in.heard[which] = now;
      a->in.peer_solo = (m.flags & LSA_FLAG_SOLO) != 0;
      a->hears_us[which] = m.age_ms;
      a->peer_state[which] = m.state < LSA_K_COUNT ? m.state : 0;
      a->rx[which]++;
    } else if (which == 2) {
      if (m.type != LSA_T_PONG || m.role != LSA_ROLE_WITNESS || m.path != LSA_PATH_WITNESS) {
        reject(a, LSA_E_UNEXPECTED, where[which], now);
        continue;
      }
      int found = -1;
      for (int i = 0; i < MAX_PINGS; i++)
        if (a->ping[i].seq && a->ping[i].seq == m.echo) found = i;
      if (found < 0 || !skew_ok(a, &m)) { /* each ping is answered once: replays miss */
        reject(a, found < 0 ? LSA_E_REPLAY : REJ_SKEW, where[which], now);
        continue;
      }
      a->witness_echo = m.seq;
      int64_t sent = a->ping[found].sent;
      a->ping[found].seq = 0; /* each ping is answered once */
      if (sent >= a->in.witness_ok_sent || a->in.witness_ok_at < 0) {
        a->in.witness_ok_at = now;
        a->in.witness_ok_sent = sent;
        a->in.witness_peer_age = m.age_ms;
      }
      a->witness_rtt_ms = (double)(mono_us() - sent * 1000) / 1000.0;
      a->wrx++;
    } else {
      if (m.type != LSA_T_PING || m.path != LSA_PATH_WITNESS ||
          (m.role != LSA_ROLE_PRIMARY && m.role != LSA_ROLE_SECONDARY)) {
        reject(a, LSA_E_UNEXPECTED, where[which], now);
        continue;
      }
      if (!skew_ok(a, &m)) { reject(a, REJ_SKEW, where[which], now); continue; }
      int rv = lsa_replay_check(&a->role_replay[m.role], m.seq);
      if (rv == LSA_RP_SEEN) {
        reject(a, LSA_E_REPLAY, where[which], now);
        continue;
      }
      int live = rv == LSA_RP_FRESH;
      if (rv == LSA_RP_UNKNOWN) {
        if (lsa_echo_fresh(m.echo, seq_recent_floor(a, now), a->seq)) {
          lsa_replay_reset(&a->role_replay[m.role], m.seq);
          live = 1;
        } else {
          reject(a, REJ_UNPROVEN, where[which], now); /* answered, not counted as alive */
        }
      }
      if (live) a->role_heard[m.role] = now;
      int other = m.role == LSA_ROLE_PRIMARY ? LSA_ROLE_SECONDARY : LSA_ROLE_PRIMARY;
      lsa_msg p;
      uint8_t out[LSA_MSG_LEN];
      fill_msg(a, &p, LSA_T_PONG, LSA_PATH_WITNESS);
      p.echo = m.seq;
      int64_t h = a->role_heard[other];
      p.age_ms = h < 0 ? LSA_AGE_NEVER : (uint32_t)(now - h > 0xFFFFFFFE ? 0xFFFFFFFE : now - h);
      lsa_encode(&p, &a->key, out);
      if (sendto(a->sfd, out, sizeof out, MSG_DONTWAIT, (struct sockaddr *)&src, sl) ==
          (ssize_t)sizeof out)
        a->served++;
    }
  }
}

/* ---------------------------------------------------------------- decisions */

static void run_decide(agent *a, int64_t now) {
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

static void usage(FILE *f) {
  fprintf(f,
          "usage: lockstep-agent [--config FILE] [--KEY=VALUE ...]\n"
          "       lockstep-agent --witness-serve [ADDR:PORT] [--config FILE] [--KEY=VALUE ...]\n"
          "       lockstep-agent --once-status [--config FILE | --status-socket PATH]\n"
          "       lockstep-agent --check-config [--config FILE] [--KEY=VALUE ...]\n"
          "Keys (file: key = value; flags: --key=value or --key value, '-' or '_'):\n"
          "  role cluster_id secret secret_file crossover_local crossover_peer public_local\n"
          "  public_peer witness witness_listen interval_ms timeout_ms witness_interval_ms\n"
          "  witness_timeout_ms rearm_ms action_timeout_ms max_clock_skew_ms failover_cmd\n"
          "  continue_cmd degraded_cmd status_socket log_file\n");
}

static int once_status(const lsa_config *c) {
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", c->status_socket);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = {.tv_sec = 2};
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
      write(fd, "status\n", 7) != 7) {
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

static void print_config(const lsa_config *c, int witness_mode) {
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
  jb_raw(&b, "}\n");
  fputs(mem, stdout);
}

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
    if (!strcmp(s, "--once-status") || !strcmp(s, "--check-config")) continue;
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
  if (once) return once_status(&a->cfg);

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

  int64_t next_hb = mono_ms(), next_ping = next_hb;
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
      if (now >= next_hb) {
        send_heartbeats(a, now);
        next_hb += a->cfg.interval_ms;
        if (next_hb <= now) next_hb = now + a->cfg.interval_ms; /* we were stalled: no burst */
      }
      if (a->wfd >= 0 && now >= next_ping) {
        send_ping(a, now);
        next_ping += wint;
        if (next_ping <= now) next_ping = now + wint;
      }
      reap_child(a, now);
      run_decide(a, now);
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
