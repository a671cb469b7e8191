/* Clocks, the log, sockets and file reading of the agent. */
#include "agent.h"

const char *rej_name(int i) {
  return i == REJ_WRONG_SOURCE ? "wrong_source"
         : i == REJ_SKEW       ? "clock_skew"
         : i == REJ_UNPROVEN   ? "unproven"
                               : lsa_verdict_name(i);
}

int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
void fmt_wall(int64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

void logf_(agent *a, const char *fmt, ...) {
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

int set_flags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int udp_socket(const lsa_addr *bind_to, int family, char *err, size_t n) {
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

int read_file(const char *path, char *buf, size_t cap, size_t *len, char *err,
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

int vm_probe(const char *pidfile, long *pid) {
  char buf[64], err[128];
  size_t len;
  *pid = -1;
  if (read_file(pidfile, buf, sizeof buf, &len, err, sizeof err)) return VM_DOWN;
  long p = lsa_pidfile_parse(buf, len);
  if (p < 1) return VM_DOWN;
  *pid = p;
  if (kill((pid_t)p, 0) != 0 && errno != EPERM) return VM_DOWN;
  /* kill(pid, 0) succeeds on a zombie: a QEMU killed with -9 and not yet reaped is dead */
  char path[64], st[2048];
  snprintf(path, sizeof path, "/proc/%ld/stat", p);
  if (read_file(path, st, sizeof st, &len, err, sizeof err) == 0) {
    int dead = lsa_proc_stat_dead(st, len);
    return dead == 1 ? VM_DOWN : dead == 0 ? VM_UP : VM_UNKNOWN;
  }
  /* unreadable: gone since kill() (a process being torn down), or /proc is odd: say nothing */
  return kill((pid_t)p, 0) != 0 && errno != EPERM ? VM_DOWN : VM_UNKNOWN;
}
