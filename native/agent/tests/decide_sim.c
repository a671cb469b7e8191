/* decide_sim: see decide_sim.h. */
#include "decide_sim.h"

void sim_init(sim *s, enum lsa_role role) {
  memset(s, 0, sizeof *s);
  s->cf.role = role;
  s->cf.timeout_ms = 300;
  s->cf.witness_timeout_ms = 300;
  s->cf.rearm_ms = 1000;
  s->cf.has_witness = 1;
  s->now = 1000;
  lsa_state_init(&s->st, s->now);
  s->in.heard[0] = s->in.heard[1] = -1;
  s->in.witness_ok_at = s->in.witness_ok_sent = -1;
  s->in.witness_peer_age = LSA_AGE_NEVER;
  s->peer_alive = s->xo_link = s->pub_link = s->witness_link = s->peer_to_witness = 1;
  s->w_peer_last = -1;
  s->w_peer_due = -1;
  s->pong_due = -1;
  s->child_done_at = -1;
}

void sim_step(sim *s) {
  s->now++;
  if (s->now % 20 == 0) {
    if (s->drop_hb > 0) {
      s->drop_hb--;
    } else if (s->peer_alive) {
      if (s->xo_link) s->in.heard[LSA_XO] = s->now;
      if (s->pub_link) s->in.heard[LSA_PUB] = s->now;
      if (s->xo_link || s->pub_link) s->in.peer_solo = s->peer_solo;
    }
    if (s->peer_alive && s->peer_to_witness) s->w_peer_due = s->now + s->peer_witness_lag;
  }
  if (s->now % 20 == 10 && s->witness_link) {
    if (s->drop_pongs > 0) s->drop_pongs--;
    else { s->pong_due = s->now + 1; s->pong_sent = s->now; }
  }
  if (s->pong_due == s->now) {
    if (s->witness_link) {
      s->in.witness_ok_at = s->now;
      s->in.witness_ok_sent = s->pong_sent;
      s->in.witness_peer_age =
          s->w_peer_last < 0 ? LSA_AGE_NEVER : (uint32_t)(s->now - 1 - s->w_peer_last);
    }
    s->pong_due = -1;
  }
  /* the peer's (late) ping reaches the witness: after any pong of this same ms, which it sent a ms ago */
  if (s->w_peer_due == s->now) s->w_peer_last = s->now;
  if (s->child_done_at == s->now) {
    s->in.child_done = 1;
    s->in.child_rc = s->child_rc_next;
    s->child_done_at = -1;
  }
  lsa_decision d = lsa_decide(&s->cf, &s->st, &s->in, s->now);
  s->in.child_done = 0;
  s->st = d.next;
  if (d.action != LSA_A_NONE) {
    if (s->nact < 8) {
      s->acts[s->nact] = d.action;
      s->act_at[s->nact] = s->now;
    }
    s->nact++;
    s->child_done_at = s->now + 5;
  }
}

void sim_run(sim *s, int64_t ms) {
  for (int64_t i = 0; i < ms; i++) sim_step(s);
}

/* runs until armed; returns the time it took */
int64_t sim_arm(sim *s) {
  int64_t t0 = s->now;
  for (int i = 0; i < 5000 && s->st.kind != LSA_K_PROTECTED; i++) sim_step(s);
  return s->now - t0;
}
