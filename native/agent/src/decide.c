#include "decide.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[LSA_K_COUNT] = {
    "?",           "waiting",   "degraded",  "partitioned", "isolated",
    "protected",   "public-lost", "suspect", "acting",      "took-over",
    "alone",       "action-failed", "split-brain"};

const char *lsa_kind_name(enum lsa_kind k) {
  return k > 0 && k < LSA_K_COUNT ? kind_names[k] : "?";
}

int lsa_kind_armed(enum lsa_kind k) {
  return k == LSA_K_PROTECTED || k == LSA_K_PUBLIC_LOST || k == LSA_K_SUSPECT;
}

int lsa_kind_solo(enum lsa_kind k) {
  return k == LSA_K_ACTING || k == LSA_K_TOOK_OVER || k == LSA_K_ALONE || k == LSA_K_FAILED ||
         k == LSA_K_SPLIT_BRAIN;
}

const char *lsa_action_name(enum lsa_action a) {
  static const char *const n[LSA_A_COUNT] = {"none", "failover", "continue-alone", "degraded"};
  return (unsigned)a < LSA_A_COUNT ? n[a] : "?";
}

void lsa_state_init(lsa_state *s, int64_t now) {
  memset(s, 0, sizeof *s);
  s->kind = LSA_K_WAITING;
  s->since = now;
  s->xo_up_since = -1;
  snprintf(s->reason, sizeof s->reason, "started: waiting for the peer on the crossover");
}

static int fresh(int64_t t, int64_t now, int64_t limit) { return t >= 0 && now - t < limit; }

/* Age for a reason string: -1 = never heard. */
static long long age(int64_t t, int64_t now) { return t < 0 ? -1 : (long long)(now - t); }

#define GO(KIND, ...)                                                         \
  do {                                                                        \
    if (d.next.kind != (KIND)) {                                              \
      d.next.kind = (KIND);                                                   \
      d.next.since = now;                                                     \
      d.changed = 1;                                                          \
      snprintf(d.next.reason, sizeof d.next.reason, __VA_ARGS__);             \
    }                                                                         \
  } while (0)

static void act(lsa_decision *d, enum lsa_action a, int64_t now) {
  d->next.kind = LSA_K_ACTING;
  d->next.since = now;
  d->next.acting = a;
  d->action = a;
  d->changed = 1;
}

lsa_decision lsa_decide(const lsa_dconf *cf, const lsa_state *s, const lsa_inputs *in,
                        int64_t now) {
  lsa_decision d;
  memset(&d, 0, sizeof d);
  d.next = *s;
  const int64_t to = cf->timeout_ms;
  const int xo = fresh(in->heard[LSA_XO], now, to);
  const int pub = fresh(in->heard[LSA_PUB], now, to);
  const int peer_heard = xo || pub;
  const char *peer = cf->role == LSA_ROLE_PRIMARY ? "secondary" : "primary";

  /* the crossover's steady run: restarts after every silence of timeout_ms */
  if (!xo) d.next.xo_up_since = -1;
  else if (s->xo_up_since < 0) d.next.xo_up_since = now;

  switch (s->kind) {
  case LSA_K_ACTING:
    if (in->child_done) {
      if (in->child_rc == 0) {
        GO(s->acting == LSA_A_FAILOVER ? LSA_K_TOOK_OVER : LSA_K_ALONE, "%s command succeeded",
           lsa_action_name(s->acting));
      } else {
        GO(LSA_K_FAILED, "%s command failed (rc=%d): needs a person", lsa_action_name(s->acting),
           in->child_rc);
      }
    }
    return d;
  case LSA_K_TOOK_OVER:
  case LSA_K_ALONE:
  case LSA_K_FAILED:
    if (peer_heard && in->peer_solo)
      GO(LSA_K_SPLIT_BRAIN, "the %s is back and says it acted too: split brain", peer);
    return d;
  case LSA_K_SPLIT_BRAIN:
    return d;
  default:
    break;
  }

  /* held by the app (it is about to restart or stop the agents, or stop the VMs): disarmed,
   * whatever the paths say, so that one agent going quiet never makes the other act */
  if (in->held) {
    if (d.next.kind != LSA_K_WAITING) GO(LSA_K_WAITING, "held by the app: disarmed, never acts until restarted");
    else snprintf(d.next.reason, sizeof d.next.reason, "held by the app: disarmed, never acts until restarted");
    return d;
  }

  if (!lsa_kind_armed(s->kind)) {
    if (xo && in->peer_solo) {
      GO(LSA_K_WAITING, "the %s runs alone (not in lockstep): not arming", peer);
    } else if (xo && now - d.next.xo_up_since >= cf->rearm_ms) {
      d.next.armed_once = 1;
      if (pub)
        GO(LSA_K_PROTECTED, "armed: %s heard on both paths, crossover steady for %lld ms", peer,
           (long long)(now - d.next.xo_up_since));
      else
        GO(LSA_K_PUBLIC_LOST, "armed: %s heard on the crossover only", peer);
    } else if (xo) {
      GO(LSA_K_WAITING, "crossover heard: arming after %lld ms steady", (long long)cf->rearm_ms);
    } else if (pub) {
      GO(LSA_K_DEGRADED, "crossover silent for %lld ms, %s alive on public: unprotected, no takeover",
         age(in->heard[LSA_XO], now), peer);
    } else if (!fresh(in->witness_ok_at, now, cf->witness_timeout_ms)) {
      /* (just started: give the witness its timeout to answer first) */
      if (!(s->kind == LSA_K_WAITING && now - s->since < cf->witness_timeout_ms))
        GO(LSA_K_ISOLATED, "%s silent on both paths and witness silent: isolated, no takeover",
           peer);
    } else if (s->kind == LSA_K_ISOLATED) {
      GO(LSA_K_WAITING, "witness reachable again, %s still silent: waiting for it", peer);
    }
    /* otherwise: both silent, witness fine, not armed: stay as we are (never act unarmed) */
    return d;
  }

  /* armed */
  if (peer_heard && in->peer_solo) {
    GO(LSA_K_WAITING, "the %s says it runs alone: disarmed", peer);
    return d;
  }
  if (xo && pub) {
    GO(LSA_K_PROTECTED, "%s heard on both paths", peer);
    return d;
  }
  if (xo) {
    GO(LSA_K_PUBLIC_LOST, "%s silent on public for %lld ms, crossover fine: still protected", peer,
       age(in->heard[LSA_PUB], now));
    return d;
  }
  if (pub) {
    /* Degraded only on proof the peer outlived the crossover by a whole timeout: a dying
     * host's last packets on the two paths arrive within a few ms of each other. */
    if (in->heard[LSA_XO] < 0 || in->heard[LSA_PUB] >= in->heard[LSA_XO] + to) {
      GO(LSA_K_DEGRADED, "crossover silent for %lld ms, %s alive on public: unprotected, no takeover",
         age(in->heard[LSA_XO], now), peer);
      if (cf->role == LSA_ROLE_PRIMARY && cf->degraded_action) act(&d, LSA_A_DEGRADED, now);
    } else {
      GO(LSA_K_SUSPECT, "crossover silent for %lld ms; is the %s alive on public?",
         age(in->heard[LSA_XO], now), peer);
    }
    return d;
  }

  /* silent on both paths for timeout_ms */
  const int64_t last = in->heard[LSA_XO] > in->heard[LSA_PUB] ? in->heard[LSA_XO]
                                                               : in->heard[LSA_PUB];
  const long long silent = age(last, now);
  if (!cf->has_witness) {
    GO(LSA_K_ISOLATED, "%s silent on both paths, no witness configured: no takeover", peer);
    return d;
  }
  /* the witness answered a ping sent well after the peer went quiet (a pong to a ping sent
   * just before our own links died proves nothing) */
  const int confirmed = in->witness_ok_at >= 0 && in->witness_ok_sent >= last + to / 2;
  if (confirmed) {
    if (cf->role == LSA_ROLE_PRIMARY) {
      act(&d, LSA_A_CONTINUE, now);
      snprintf(d.next.reason, sizeof d.next.reason,
               "secondary silent on both paths for %lld ms, witness reachable: continue alone",
               silent);
      return d;
    }
    const uint32_t wa = in->witness_peer_age;
    /* the witness last heard the primary no later than we did (its pings to the witness can
     * trail its heartbeats to us by a few ms, so an age just under timeout_ms is not a sign of
     * life): it is gone for the witness too. A primary cut off from us only still pings the
     * witness every interval, so its age there stays far below timeout_ms / 2. */
    const int gone_for_witness =
        wa != LSA_AGE_NEVER && wa >= to / 2 && in->witness_ok_at - (int64_t)wa <= last + to / 2;
    if (wa == LSA_AGE_NEVER || wa >= to || gone_for_witness) {
      act(&d, LSA_A_FAILOVER, now);
      if (wa == LSA_AGE_NEVER)
        snprintf(d.next.reason, sizeof d.next.reason,
                 "primary silent on both paths for %lld ms, witness reachable and never heard it: take over",
                 silent);
      else
        snprintf(d.next.reason, sizeof d.next.reason,
                 "primary silent on both paths for %lld ms, witness reachable and silent from it for %u ms: take over",
                 silent, wa);
      return d;
    }
    if (in->witness_ok_sent >= last + to) {
      GO(LSA_K_PARTITIONED,
         "primary silent to us for %lld ms but the witness heard it %u ms ago: partition, no takeover",
         silent, wa);
      return d;
    }
  } else if (!fresh(in->witness_ok_at, now, cf->witness_timeout_ms)) {
    GO(LSA_K_ISOLATED, "%s silent on both paths for %lld ms and witness silent: isolated, no takeover",
       peer, silent);
    return d;
  }
  GO(LSA_K_SUSPECT, "%s silent on both paths for %lld ms: asking the witness", peer, silent);
  return d;
}
