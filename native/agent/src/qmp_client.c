/* qmp_client: see qmp_client.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

static const char *g_side = "?";

void say_side(const char *side) { g_side = side; }

long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void say(const char *fmt, ...) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char t[32];
  strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(stderr, "%s.%03ldZ colo-failover[%s]: ", t, ts.tv_nsec / 1000000, g_side);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
}

/* ---------------------------------------------------------------- one QMP connection */


/* Next complete line (without '\n') before the deadline: its length, or -1 (timeout, EOF,
 * error: why in err). Lines longer than the buffer are a protocol error. */
static long read_line(qmp *q, long long deadline, char *line, size_t cap, char *err, size_t en) {
  for (;;) {
    char *nl = memchr(q->buf, '\n', q->len);
    if (nl) {
      size_t l = (size_t)(nl - q->buf);
      if (l >= cap) l = cap - 1;
      memcpy(line, q->buf, l);
      line[l] = 0;
      size_t used = (size_t)(nl - q->buf) + 1;
      memmove(q->buf, q->buf + used, q->len - used);
      q->len -= used;
      return (long)l;
    }
    if (q->len == sizeof q->buf) {
      snprintf(err, en, "a QMP line longer than %zu bytes", sizeof q->buf);
      return -1;
    }
    long long left = deadline - now_ms();
    if (left <= 0) {
      snprintf(err, en, "timed out");
      return -1;
    }
    struct pollfd pf = {.fd = q->fd, .events = POLLIN};
    int r = poll(&pf, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(err, en, "poll: %s", strerror(errno));
      return -1;
    }
    if (r == 0) continue;
    ssize_t n = read(q->fd, q->buf + q->len, sizeof q->buf - q->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      snprintf(err, en, "%s", n == 0 ? "QEMU closed the connection" : strerror(errno));
      return -1;
    }
    q->len += (size_t)n;
  }
}

static int write_all(int fd, const char *s, size_t n, long long deadline) {
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      long long left = deadline - now_ms();
      if (left <= 0) return -1;
      struct pollfd pf = {.fd = fd, .events = POLLOUT};
      poll(&pf, 1, (int)left);
      continue;
    }
    if (w <= 0) return -1;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}


/* Sends one command (args: a JSON object text or NULL) and waits for ITS reply (matched by
 * id; events and stale replies are skipped). ret gets the "return" line (may be NULL).
 * CALL_OK, CALL_REFUSED (QEMU answered "error": why in err) or CALL_FAILED (I/O, timeout). */
int qmp_call(qmp *q, int oob, const char *cmd, const char *args, int timeout_ms, char *ret,
                size_t retcap, char *err, size_t en) {
  long long deadline = now_ms() + timeout_ms;
  long id = q->next_id++;
  char msg[2048];
  int n = snprintf(msg, sizeof msg, "{\"%s\":\"%s\"%s%s,\"id\":%ld}\n", oob ? "exec-oob" : "execute",
                   cmd, args ? ",\"arguments\":" : "", args ? args : "", id);
  if (n < 0 || (size_t)n >= sizeof msg) {
    snprintf(err, en, "command too long");
    return CALL_FAILED;
  }
  if (write_all(q->fd, msg, (size_t)n, deadline)) {
    snprintf(err, en, "write: %s", strerror(errno));
    return CALL_FAILED;
  }
  static char line[LINE_MAX_];
  for (;;) {
    long l = read_line(q, deadline, line, sizeof line, err, en);
    if (l < 0) return CALL_FAILED;
    long rid;
    char desc[320];
    enum qmp_kind k = qmp_classify(line, (size_t)l, &rid, desc, sizeof desc);
    if (k == QMP_EVENT) {
      qj_span ev;
      char name[64] = "";
      if (qj_get(line, (size_t)l, "event", &ev) == 0) qj_string(ev, name, sizeof name);
      if (!strcmp(name, "COLO_EXIT") || !strcmp(name, "MIGRATION")) say("  event %.300s", line);
      continue;
    }
    if (k == QMP_BAD) {
      say("  skipping a line that is not JSON: %.120s", line);
      continue;
    }
    if (k != QMP_RETURN && k != QMP_ERROR) continue;
    if (rid != id) continue; /* a late reply to an earlier call that timed out */
    if (k == QMP_ERROR) {
      snprintf(err, en, "%s", desc);
      return CALL_REFUSED;
    }
    if (ret && retcap) snprintf(ret, retcap, "%s", line);
    return CALL_OK;
  }
}

int qmp_open(qmp *q, const char *path, int oob, int timeout_ms, char *err, size_t en) {
  memset(q, 0, sizeof *q);
  q->fd = -1;
  q->path = path;
  q->next_id = 1;
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sun.sun_path) {
    snprintf(err, en, "socket path too long");
    return -1;
  }
  memcpy(sun.sun_path, path, strlen(path) + 1);
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (q->fd < 0) {
      snprintf(err, en, "socket: %s", strerror(errno));
      return -1;
    }
    if (connect(q->fd, (struct sockaddr *)&sun, sizeof sun) == 0) break;
    int e = errno;
    close(q->fd);
    q->fd = -1;
    /* EAGAIN: the listener's backlog is full (another client holds the monitor): retry */
    if (e != EAGAIN || now_ms() >= deadline) {
      snprintf(err, en, "connect %s: %s", path, strerror(e));
      return -1;
    }
    usleep(10000);
  }
  static char line[LINE_MAX_];
  for (;;) {
    long l = read_line(q, deadline, line, sizeof line, err, en);
    if (l < 0) {
      char why[200];
      snprintf(why, sizeof why, "%s", err);
      snprintf(err, en, "no QMP greeting on %s (%s; is another client connected?)", path, why);
      return -1;
    }
    long rid;
    if (qmp_classify(line, (size_t)l, &rid, NULL, 0) == QMP_GREETING) break;
  }
  int left = (int)(deadline - now_ms());
  int r = qmp_call(q, 0, "qmp_capabilities", oob ? "{\"enable\":[\"oob\"]}" : NULL, left > 500 ? left : 500,
               NULL, 0, err, en);
  return r == CALL_OK ? 0 : -1;
}

void qmp_close(qmp *q) {
  if (q->fd >= 0) close(q->fd);
  q->fd = -1;
}
