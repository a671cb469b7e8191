/* agent.h: the agent's state and the functions its source files share (I/O only; decisions are decide.c). */
#ifndef LSA_AGENT_H
#define LSA_AGENT_H
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
#include "vmwatch.h"
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
enum { VM_UNWATCHED = 0, VM_UP, VM_DOWN, VM_UNKNOWN /* vm_probe only: no verdict this time */ };

enum { REJ_WRONG_SOURCE = LSA_E_COUNT, REJ_SKEW, REJ_UNPROVEN, REJ_COUNT };
const char *rej_name(int i);

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
  int64_t action_started_wall, action_finished_wall; /* ms since the epoch; -1 = not yet */
  /* the local VM (vm_pidfile): VM_UNWATCHED, VM_UP or VM_DOWN; while down we are silent */
  int vm;
  long vm_pid;
  long vm_dead_pid; /* the last pid seen dead: never believed alive again */
  int64_t vm_since;
  /* status */
  int lfd;
  client clients[MAX_CLIENTS];
  decision_rec dec[MAX_DECISIONS];
  unsigned ndec;
  FILE *log;
} agent;

int64_t mono_ms(void);
int64_t mono_us(void);
int64_t wall_ms(void);
void fmt_wall(int64_t ms, char out[32]);
void logf_(agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int set_flags(int fd);
int udp_socket(const lsa_addr *bind_to, int family, char *err, size_t n);
int read_file(const char *path, char *buf, size_t cap, size_t *len, char *err, size_t n);
/* Is the local VM alive? (its pid file names a live, non-zombie process) VM_UP, VM_DOWN, or
 * VM_UNKNOWN when /proc could not tell (keep the previous verdict). */
int vm_probe(const char *pidfile, long *pid);
void json_age(jbuf *b, const char *key, int64_t t, int64_t now);
void status_json(agent *a, jbuf *b);
int status_listen(agent *a, char *err, size_t n);
void client_close(client *c);
void client_send_status(agent *a, client *c);
void client_read(agent *a, client *c);
void status_accept(agent *a);
void run_decide(agent *a, int64_t now);
void start_action(agent *a, enum lsa_action act, int64_t now);
void reap_child(agent *a, int64_t now);
void reject(agent *a, int why, const char *where, int64_t now);
void fill_msg(agent *a, lsa_msg *m, uint8_t type, uint8_t path);
void seq_hist_tick(agent *a, int64_t now);
uint64_t seq_recent_floor(const agent *a, int64_t now);
void send_heartbeats(agent *a, int64_t now);
void send_ping(agent *a, int64_t now);
int skew_ok(agent *a, const lsa_msg *m);
void drain(agent *a, int which, int64_t now);

/* cli.c */
void usage(FILE *f);
int once_status(const lsa_config *c, const char *query);
void print_config(const lsa_config *c, int witness_mode);

#endif
