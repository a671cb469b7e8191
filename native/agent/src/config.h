/* Configuration: key = value lines (file) and --key=value flags, same keys. Pure parsing:
 * no file or network I/O here (agent.c reads files and binds sockets). */
#ifndef LSA_CONFIG_H
#define LSA_CONFIG_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wire.h"

#define LSA_MAX_ARGV 32
#define LSA_CMD_MAX 1024
#define LSA_SECRET_MAX 256
#define LSA_PATH_MAX 256
#define LSA_LINE_MAX 2048

typedef struct {
  int argc; /* 0 = not configured */
  char *argv[LSA_MAX_ARGV + 1];
  char buf[LSA_CMD_MAX];
} lsa_cmd;

typedef struct {
  int set;
  struct sockaddr_storage ss;
  socklen_t len;
  char text[64];
} lsa_addr;

typedef struct {
  enum lsa_role role; /* 0 = unset */
  char cluster[LSA_CLUSTER_MAX + 1];
  uint8_t secret[LSA_SECRET_MAX];
  size_t secret_len;
  char secret_file[LSA_PATH_MAX];
  lsa_addr crossover_local, crossover_peer, public_local, public_peer, witness, witness_listen;
  int64_t interval_ms, timeout_ms, witness_interval_ms, witness_timeout_ms, rearm_ms,
      action_timeout_ms, max_clock_skew_ms;
  lsa_cmd failover_cmd, continue_cmd, degraded_cmd;
  char status_socket[108];
  char log_file[LSA_PATH_MAX];
  char vm_pidfile[LSA_PATH_MAX]; /* "" = not watched; else the local QEMU's pid file */
} lsa_config;

void lsa_config_defaults(lsa_config *c);
/* One setting; key may use '-' for '_'. Returns 0, or -1 with a message in err. */
int lsa_config_set(lsa_config *c, const char *key, const char *value, char *err, size_t errlen);
/* A whole file's text (need not be NUL-terminated). Returns 0, or -1 with "line N: ..." */
int lsa_config_parse(lsa_config *c, const char *text, size_t len, char *err, size_t errlen);
/* Completeness and consistency for a mode (peer agent or witness server). */
int lsa_config_check(const lsa_config *c, int witness_mode, char *err, size_t errlen);

/* "a.b.c.d:port" or "[v6]:port" */
int lsa_addr_parse(const char *s, lsa_addr *a);
/* Same IP (port ignored). */
int lsa_addr_same_ip(const struct sockaddr_storage *a, const lsa_addr *b);
/* argv from a string, no shell: blanks separate, '...' literal, "..." with \" \\, \x outside.
 * argv[0] must be an absolute path. Empty string = no command. */
int lsa_split_argv(const char *s, lsa_cmd *cmd, char *err, size_t errlen);
#endif
