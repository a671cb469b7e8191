/* qmp_client: one QMP connection to a local QEMU (unix socket) with a deadline on every call,
 * and the timestamped log line colo-failover writes per step. Used by colo_failover.c. */
#ifndef QMP_CLIENT_H
#define QMP_CLIENT_H
#include <stddef.h>

#define LINE_MAX_ 65536

typedef struct {
  int fd;
  const char *path;
  char buf[LINE_MAX_];
  size_t len;
  long next_id;
} qmp;

enum { CALL_OK = 0, CALL_REFUSED = 1, CALL_FAILED = -1 };

/* milliseconds on the monotonic clock */
long long now_ms(void);
/* the side the log lines name (secondary/primary) */
void say_side(const char *side);
/* one log line on stderr: ISO time, colo-failover[side], the message */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* connects (retrying until the deadline), reads the greeting, negotiates capabilities (oob if asked) */
int qmp_open(qmp *q, const char *path, int oob, int timeout_ms, char *err, size_t en);
/* sends one command (args: a JSON object text or NULL) and waits for ITS reply: CALL_* */
int qmp_call(qmp *q, int oob, const char *cmd, const char *args, int timeout_ms, char *ret, size_t retcap, char *err, size_t en);
void qmp_close(qmp *q);

#endif
