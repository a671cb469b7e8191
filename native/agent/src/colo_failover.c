/* colo-failover: the QMP failover sequences of a COLO pair (docs/field-notes/colo.md), run by
 * lockstep-agent as failover_cmd (secondary) and continue_cmd (primary). Speaks QMP over the
 * local QEMU's unix sockets; every call has a deadline; one log line per step on stderr;
 * exit 0 only if the whole sequence completed. This is the project's one failover sequence: the
 * app runs it over SSH for a manual failover or continue-alone (src-main/agent/host-failover.ts).
 *
 *   colo-failover --side secondary --qmp SOCK
 *   colo-failover --side primary --qmp SOCK [--qmp-oob SOCK] [--repl-node NAME] [--nbd-node NAME]
 *   both: [--mode-timeout-ms N]  how long to wait for COLO mode "none" (default 5000)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp_client.h"
#include "qmpjson.h"

#define VERSION "1.0.0"


/* ---------------------------------------------------------------- steps */

static int g_step;

/* One step: logs its outcome and duration. required: a refusal or failure ends the sequence. */
static int step(qmp *q, int oob, const char *cmd, const char *args, int timeout_ms, int required,
                char *ret, size_t retcap) {
  char err[400] = "";
  long long t0 = now_ms();
  int r = qmp_call(q, oob, cmd, args, timeout_ms, ret, retcap, err, sizeof err);
  long long ms = now_ms() - t0;
  g_step++;
  if (r == CALL_OK) say("step %d %s%s%s: ok (%lld ms)", g_step, cmd, args ? " " : "", args ? args : "", ms);
  else
    say("step %d %s%s%s: %s %s (%lld ms)%s", g_step, cmd, args ? " " : "", args ? args : "",
         r == CALL_REFUSED ? "refused:" : "failed:", err, ms, required ? "" : " (tolerated)");
  return r;
}

static const char *mode_of(const char *line, char *mode, size_t cap) {
  qj_span ret, m;
  mode[0] = 0;
  if (qj_get(line, strlen(line), "return", &ret) == 0 && qj_get(ret.p, ret.len, "mode", &m) == 0)
    qj_string(m, mode, cap);
  return mode;
}

/* Polls query-colo-status until mode is "none" (10 ms apart). 0, or -1. */
static int wait_mode_none(qmp *q, int limit_ms) {
  static char line[LINE_MAX_];
  char err[400] = "", mode[32] = "";
  long long t0 = now_ms(), until = t0 + limit_ms;
  int polls = 0;
  g_step++;
  for (;;) {
    int left = (int)(until - now_ms());
    if (left <= 0) break;
    int r = qmp_call(q, 0, "query-colo-status", NULL, left < 1000 ? left : 1000, line, sizeof line, err, sizeof err);
    polls++;
    if (r == CALL_REFUSED) {
      say("step %d query-colo-status: refused: %s", g_step, err);
      return -1;
    }
    if (r == CALL_OK && !strcmp(mode_of(line, mode, sizeof mode), "none")) {
      say("step %d query-colo-status: mode none (%lld ms, %d polls)", g_step, now_ms() - t0, polls);
      return 0;
    }
    if (r == CALL_FAILED && q->fd >= 0 && strstr(err, "closed")) break;
    usleep(10000);
  }
  say("step %d query-colo-status: still mode '%s' after %d ms%s%s", g_step, mode, limit_ms, err[0] ? ": " : "", err);
  return -1;
}

static int secondary(const char *sock, int mode_ms) {
  qmp q;
  char err[400];
  long long t0 = now_ms();
  if (qmp_open(&q, sock, 0, 3000, err, sizeof err)) {
    say("FAILED: cannot open QMP %s: %s", sock, err);
    return 1;
  }
  say("connected to %s (%lld ms)", sock, now_ms() - t0);
  int ok = step(&q, 0, "nbd-server-stop", NULL, 3000, 1, NULL, 0) == CALL_OK &&
           step(&q, 0, "x-colo-lost-heartbeat", NULL, 5000, 1, NULL, 0) == CALL_OK &&
           wait_mode_none(&q, mode_ms) == 0;
  if (ok) {
    step(&q, 0, "object-del", "{\"id\":\"f2\"}", 3000, 0, NULL, 0);
    step(&q, 0, "object-del", "{\"id\":\"f1\"}", 3000, 0, NULL, 0);
    step(&q, 0, "chardev-remove", "{\"id\":\"red1\"}", 3000, 0, NULL, 0);
    step(&q, 0, "chardev-remove", "{\"id\":\"red0\"}", 3000, 0, NULL, 0);
    ok = step(&q, 0, "announce-self", "{\"initial\":0,\"max\":500,\"rounds\":5,\"step\":100}", 3000, 1, NULL, 0) ==
         CALL_OK;
  }
  qmp_close(&q);
  if (!ok) {
    say("FAILED after %lld ms: the secondary did not complete the failover", now_ms() - t0);
    return 1;
  }
  say("done: the secondary runs the guest alone (%lld ms)", now_ms() - t0);
  return 0;
}

/* Out-of-band yank of whatever could hang on a dead secondary: migration, the crossover
 * chardevs, the replication's NBD node (a pulled cable sends no reset: these hang, and a
 * blockdev-del of a hung NBD node freezes QEMU's main loop). One instance per call, so a
 * missing one (say, no migration left) does not void the others. Best effort: each failure is
 * logged and tolerated. Only if the NBD node's yank was refused are the block nodes QEMU
 * lists (query-yank) yanked instead. */
static void yank_all(const char *oob_sock, const char *nbd) {
  qmp o;
  char err[400], args[400];
  if (qmp_open(&o, oob_sock, 1, 1500, err, sizeof err)) {
    g_step++;
    say("step %d yank: skipped: cannot open the OOB monitor %s: %s (tolerated)", g_step, oob_sock, err);
    return;
  }
  snprintf(args, sizeof args, "{\"instances\":[{\"type\":\"block-node\",\"node-name\":\"%s\"}]}", nbd);
  int nbd_ok = step(&o, 1, "yank", args, 1000, 0, NULL, 0) == CALL_OK;
  step(&o, 1, "yank", "{\"instances\":[{\"type\":\"chardev\",\"id\":\"mirror0\"}]}", 1000, 0, NULL, 0);
  step(&o, 1, "yank", "{\"instances\":[{\"type\":\"chardev\",\"id\":\"compare1\"}]}", 1000, 0, NULL, 0);
  step(&o, 1, "yank", "{\"instances\":[{\"type\":\"migration\"}]}", 1000, 0, NULL, 0);
  static char line[LINE_MAX_];
  if (!nbd_ok && step(&o, 0, "query-yank", NULL, 1000, 0, line, sizeof line) == CALL_OK) {
    qj_span ret, el, f;
    if (qj_get(line, strlen(line), "return", &ret) == 0)
      for (size_t i = 0; i < 64 && qj_index(ret, i, &el) == 0; i++) {
        char type[32] = "";
        if (qj_get(el.p, el.len, "type", &f) || qj_string(f, type, sizeof type) || strcmp(type, "block-node")) continue;
        if (qj_get(el.p, el.len, "node-name", &f) || f.len > 200 || *f.p != '"') continue;
        /* f is a valid JSON string token as QEMU sent it: safe to send back verbatim */
        snprintf(args, sizeof args, "{\"instances\":[{\"type\":\"block-node\",\"node-name\":%.*s}]}", (int)f.len, f.p);
        step(&o, 1, "yank", args, 1000, 0, NULL, 0);
      }
  }
  qmp_close(&o);
}

static int valid_node(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
      return 0;
  }
  return 1;
}

/* The primary continues alone: yank (OOB), drop the quorum's replication child and delete its
 * node (it was added with blockdev-add), delete the filters, colo-compare and its iothread,
 * then leave COLO. Everything before x-colo-lost-heartbeat is tolerated (already gone is fine). */
static int primary(const char *sock, const char *oob_sock, const char *repl, const char *nbd, int mode_ms) {
  char err[400], args[200];
  long long t0 = now_ms();
  if (oob_sock) yank_all(oob_sock, nbd);
  qmp q;
  if (qmp_open(&q, sock, 0, 3000, err, sizeof err)) {
    say("FAILED: cannot open QMP %s: %s", sock, err);
    return 1;
  }
  say("connected to %s (%lld ms)", sock, now_ms() - t0);
  step(&q, 0, "x-blockdev-change", "{\"parent\":\"colo-disk0\",\"child\":\"children.1\"}", 5000, 0, NULL, 0);
  snprintf(args, sizeof args, "{\"node-name\":\"%s\"}", repl);
  step(&q, 0, "blockdev-del", args, 5000, 0, NULL, 0);
  static const char *const objs[] = {"m0", "redire0", "redire1", "comp0", "iothread1"};
  for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) {
    snprintf(args, sizeof args, "{\"id\":\"%s\"}", objs[i]);
    step(&q, 0, "object-del", args, 3000, 0, NULL, 0);
  }
  int ok = step(&q, 0, "x-colo-lost-heartbeat", NULL, 5000, 1, NULL, 0) == CALL_OK && wait_mode_none(&q, mode_ms) == 0;
  qmp_close(&q);
  if (!ok) {
    say("FAILED after %lld ms: the primary did not leave COLO", now_ms() - t0);
    return 1;
  }
  say("done: the primary continues alone (%lld ms)", now_ms() - t0);
  return 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: colo-failover --side secondary --qmp SOCK [--mode-timeout-ms N]\n"
          "       colo-failover --side primary --qmp SOCK [--qmp-oob SOCK] [--repl-node NAME]\n"
          "                     [--nbd-node NAME] [--mode-timeout-ms N]\n"
          "The QMP failover sequence of a COLO pair on the local QEMU (exit 0 = completed).\n"
          "  secondary: nbd-server-stop, x-colo-lost-heartbeat, wait for mode none, remove the\n"
          "             redirector filters and their chardevs, announce-self\n"
          "  primary:   out-of-band yank (the NBD node, mirror0/compare1, migration), drop the\n"
          "             quorum's replication child and blockdev-del it (default replication0,\n"
          "             its NBD node nbdN for replicationN), delete the filters, colo-compare and\n"
          "             its iothread, x-colo-lost-heartbeat, wait for mode none\n");
}

/* replicationN -> nbdN (the app names both from one generation); else nbd0 */
static void nbd_of(const char *repl, char *out, size_t cap) {
  const char *d = repl + strlen(repl);
  while (d > repl && d[-1] >= '0' && d[-1] <= '9') d--;
  snprintf(out, cap, "nbd%s", *d && !strncmp(repl, "replication", 11) ? d : "0");
}

int main(int argc, char **argv) {
  const char *side = NULL, *sock = NULL, *oob = NULL, *repl = "replication0", *nbd = NULL, *mode_s = NULL;
  signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
    if (!strcmp(a, "--version")) { puts("colo-failover " VERSION); return 0; }
    const char **dst = !strcmp(a, "--side") ? &side : !strcmp(a, "--qmp") ? &sock : !strcmp(a, "--qmp-oob") ? &oob
                      : !strcmp(a, "--repl-node") ? &repl : !strcmp(a, "--nbd-node") ? &nbd
                      : !strcmp(a, "--mode-timeout-ms") ? &mode_s : NULL;
    if (!dst || !v) {
      fprintf(stderr, "colo-failover: %s '%s'\n", dst ? "missing value for" : "unknown argument", a);
      usage(stderr);
      return 2;
    }
    *dst = v;
    i++;
  }
  if (!side || !sock || (strcmp(side, "primary") && strcmp(side, "secondary"))) {
    fprintf(stderr, "colo-failover: --side primary|secondary and --qmp SOCK are required\n");
    usage(stderr);
    return 2;
  }
  char nbd_buf[80];
  if (!nbd) {
    nbd_of(repl, nbd_buf, sizeof nbd_buf);
    nbd = nbd_buf;
  }
  if (!valid_node(repl) || !valid_node(nbd)) {
    fprintf(stderr, "colo-failover: --repl-node and --nbd-node must be 1-64 of [A-Za-z0-9_.-]\n");
    return 2;
  }
  int mode_ms = 5000;
  if (mode_s) {
    char *end;
    errno = 0;
    long m = strtol(mode_s, &end, 10);
    if (errno || *end || end == mode_s || m < 10 || m > 600000) {
      fprintf(stderr, "colo-failover: --mode-timeout-ms must be 10..600000\n");
      return 2;
    }
    mode_ms = (int)m;
  }
  say_side(side);
  const char *act = getenv("LOCKSTEP_ACTION"), *why = getenv("LOCKSTEP_REASON");
  say("start (pid %d)%s%s%s%s", (int)getpid(), act ? " action=" : "", act ? act : "", why ? ": " : "", why ? why : "");
  return !strcmp(side, "secondary") ? secondary(sock, mode_ms) : primary(sock, oob, repl, nbd, mode_ms);
}
