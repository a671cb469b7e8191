/* The failover decision, as a pure function: no I/O, no clock, no globals.
 * The daemon feeds it what it observed (inputs) and the time; it returns the next state
 * and at most one action. Everything else (sockets, exec, logging) lives in agent.c. */
#ifndef LSA_DECIDE_H
#define LSA_DECIDE_H
#include <stdint.h>

#include "wire.h"

enum lsa_kind {
  /* disarmed: never acts */
  LSA_K_WAITING = 1,   /* peer not (yet/again) heard steadily on the crossover, or peer runs alone */
  LSA_K_DEGRADED,      /* crossover silent, peer alive on public: pair unprotected */
  LSA_K_PARTITIONED,   /* peer silent to us, but the witness still hears it (secondary only) */
  LSA_K_ISOLATED,      /* peer silent and witness silent: we are the one cut off */
  /* armed: may act */
  LSA_K_PROTECTED,     /* peer heard on both paths */
  LSA_K_PUBLIC_LOST,   /* peer heard on the crossover only: still protected */
  LSA_K_SUSPECT,       /* something silent, gathering evidence; no action yet */
  /* acted */
  LSA_K_ACTING,        /* the action's command is running */
  LSA_K_TOOK_OVER,     /* secondary: failover command succeeded */
  LSA_K_ALONE,         /* primary: continue-alone (or degraded) command succeeded */
  LSA_K_FAILED,        /* the action's command failed or timed out: needs a person */
  LSA_K_SPLIT_BRAIN,   /* we acted and the peer says it acted too */
  LSA_K_COUNT
};
const char *lsa_kind_name(enum lsa_kind k);
int lsa_kind_armed(enum lsa_kind k);
int lsa_kind_solo(enum lsa_kind k); /* advertised as SOLO: not in lockstep any more */

enum lsa_action {
  LSA_A_NONE = 0,
  LSA_A_FAILOVER, /* secondary: primary is dead, take over */
  LSA_A_CONTINUE, /* primary: secondary is dead, continue alone */
  LSA_A_DEGRADED, /* primary: crossover lost, peer alive (only if degraded_cmd is set) */
  LSA_A_COUNT
};
const char *lsa_action_name(enum lsa_action a);

enum { LSA_XO = 0, LSA_PUB = 1 }; /* index of a peer path */

typedef struct {
  enum lsa_role role;      /* PRIMARY or SECONDARY */
  int64_t timeout_ms;      /* a path is silent after this long without an authentic packet */
  int64_t witness_timeout_ms; /* the witness is unreachable after this long without a pong */
  int64_t rearm_ms;        /* crossover must be steadily heard this long before arming */
  int has_witness;         /* no witness configured: never acts */
  int degraded_action;     /* primary runs LSA_A_DEGRADED on entering degraded */
} lsa_dconf;

typedef struct {
  int64_t heard[2];        /* last authentic heartbeat from the peer per path; -1 never */
  int peer_solo;           /* the latest heartbeat carried the SOLO flag */
  int64_t witness_ok_at;   /* when the latest valid pong arrived; -1 never */
  int64_t witness_ok_sent; /* when the ping that pong answers was sent */
  uint32_t witness_peer_age; /* the witness's age of our peer, from that pong */
  int child_done;          /* the action's command finished since the last call */
  int child_rc;            /* its exit code; -1 killed or timed out */
  int held;                /* the app asked us to hold (status socket "hold"): disarmed, never
                              acts, until restarted; an action already running still finishes */
} lsa_inputs;

typedef struct {
  enum lsa_kind kind;
  int64_t since;           /* when kind was entered */
  int64_t xo_up_since;     /* start of the current steady crossover run; -1 silent */
  enum lsa_action acting;  /* the action started (ACTING and after) */
  int armed_once;
  char reason[160];
} lsa_state;

typedef struct {
  lsa_state next;
  enum lsa_action action;  /* to start now (the caller runs the command) */
  int changed;             /* kind changed or an action is due: worth a log line */
} lsa_decision;

void lsa_state_init(lsa_state *s, int64_t now);
lsa_decision lsa_decide(const lsa_dconf *cf, const lsa_state *s, const lsa_inputs *in,
                        int64_t now);
#endif
