/* The agent's wire format: one fixed-size, versioned, authenticated UDP datagram.
 *
 *  off len field
 *   0   4  magic "LSAG"
 *   4   1  version (1)
 *   5   1  type: 1 heartbeat, 2 witness-ping, 3 witness-pong
 *   6   1  sender role: 1 primary, 2 secondary, 3 witness
 *   7   1  path: 1 crossover, 2 public, 3 witness
 *   8  16  cluster id: 1..16 chars [A-Za-z0-9._-], NUL-padded
 *  24   8  seq: sender's counter, +1 per datagram; starts at a random value each run
 *  32   8  echo: heartbeat = the latest seq we got from the receiver on this path;
 *          ping = the seq of the latest pong from the witness; pong = the ping's seq.
 *          A sender whose seq jumps (a restarted agent) is believed only when its echo
 *          is one of the receiver's own recent seqs: a replay cannot prove that.
 *  40   1  sender state (enum lsa_kind of the sender; witness: 0)
 *  41   1  flags: bit0 SOLO = sender no longer in lockstep (ran its action); others 0
 *  42   2  reserved, 0
 *  44   4  age_ms: heartbeat = how long since the sender last heard US on this path;
 *          pong = how long since the witness last heard the asker's peer role;
 *          0xFFFFFFFF = never
 *  48   8  sender wall clock, ms since the Unix epoch (log/diagnostics; optional skew check)
 *  56  32  HMAC-SHA-256(secret, bytes 0..55)
 *  88      end. All integers big-endian. Any other length is malformed.
 */
#ifndef LSA_WIRE_H
#define LSA_WIRE_H
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define LSA_MAGIC "LSAG"
#define LSA_VERSION 1
#define LSA_MSG_LEN 88
#define LSA_MAC_OFF 56
#define LSA_CLUSTER_MAX 16
#define LSA_AGE_NEVER 0xFFFFFFFFu
#define LSA_FLAG_SOLO 0x01u

enum lsa_type { LSA_T_HEARTBEAT = 1, LSA_T_PING = 2, LSA_T_PONG = 3 };
enum lsa_role { LSA_ROLE_PRIMARY = 1, LSA_ROLE_SECONDARY = 2, LSA_ROLE_WITNESS = 3 };
enum lsa_path { LSA_PATH_CROSSOVER = 1, LSA_PATH_PUBLIC = 2, LSA_PATH_WITNESS = 3 };

typedef struct {
  uint8_t type, role, path;
  char cluster[LSA_CLUSTER_MAX + 1];
  uint64_t seq, echo;
  uint8_t state, flags;
  uint32_t age_ms;
  uint64_t wall_ms;
} lsa_msg;

/* Why a datagram was rejected; LSA_OK = accepted. Order = the order of the checks. */
enum lsa_verdict {
  LSA_OK = 0,
  LSA_E_LENGTH,    /* not exactly 88 bytes */
  LSA_E_MAGIC,
  LSA_E_VERSION,   /* another protocol version */
  LSA_E_FIELD,     /* type/role/path/cluster/reserved/flags out of range */
  LSA_E_CLUSTER,   /* well-formed, another cluster */
  LSA_E_MAC,       /* bad HMAC */
  LSA_E_REPLAY,    /* seq already seen or older than the window */
  LSA_E_UNEXPECTED,/* authentic but not for us (wrong type/role/path for this socket) */
  LSA_E_COUNT
};
const char *lsa_verdict_name(enum lsa_verdict v);

/* Valid cluster id: 1..16 chars of [A-Za-z0-9._-]. */
int lsa_cluster_valid(const char *s);

/* Serialises m into out and appends the MAC. m must be valid (asserted by the caller). */
void lsa_encode(const lsa_msg *m, const hmac_sha256_key *key, uint8_t out[LSA_MSG_LEN]);

/* Structural checks, cluster match (if cluster != NULL), then the MAC. Never reads beyond
 * len bytes; fills *m only when returning LSA_OK. */
enum lsa_verdict lsa_decode(const uint8_t *buf, size_t len, const char *cluster,
                            const hmac_sha256_key *key, lsa_msg *m);

/* Anti-replay window (as IPsec's) over one sender's seqs. */
#define LSA_REPLAY_WINDOW 64
#define LSA_REPLAY_JUMP (1u << 20) /* a bigger jump either way is a new run (or a replay) */
typedef struct {
  uint64_t highest; /* 0 = nothing accepted yet */
  uint64_t bitmap;  /* bit i set = seq (highest - i) seen */
} lsa_replay;
enum lsa_replay_verdict {
  LSA_RP_FRESH = 1, /* inside the window and new: recorded */
  LSA_RP_SEEN = 0,  /* already seen, or just behind the window: a replay */
  LSA_RP_UNKNOWN = -1 /* nothing accepted yet, or far from the window: a restarted sender
                         or an old replay; accept (lsa_replay_reset) only with a fresh echo */
};
int lsa_replay_check(lsa_replay *r, uint64_t seq);
void lsa_replay_reset(lsa_replay *r, uint64_t seq);

/* Whether echo is one of our own recent seqs: (oldest_recent, current]. */
int lsa_echo_fresh(uint64_t echo, uint64_t oldest_recent, uint64_t current);
#endif
