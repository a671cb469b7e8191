/* The deterministic simulator that drives lsa_decide() in the unit tests (1 ms steps). */
#ifndef DECIDE_SIM_H
#define DECIDE_SIM_H
#include "check.h"

/* One millisecond per step. The peer sends a heartbeat on each live path every 20 ms; we
 * ping the witness every 20 ms (offset 10) and the pong comes back 1 ms later if our link
 * to the witness is up; the witness reports how long since it last heard our peer (the
 * peer pings it every 20 ms while alive and linked). */
typedef struct {
  lsa_dconf cf;
  lsa_state st;
  lsa_inputs in;
  int64_t now;
  int peer_alive, xo_link, pub_link, witness_link, peer_to_witness, peer_solo;
  int drop_hb;     /* drop this many upcoming heartbeat rounds on both paths */
  int drop_pongs;  /* drop this many upcoming pongs */
  int peer_witness_lag; /* the peer's pings reach the witness this many ms after its heartbeats reach us */
  int64_t w_peer_due;
  int64_t w_peer_last, pong_due, pong_sent;
  int child_rc_next; /* rc the action's command will exit with (after 5 ms) */
  int64_t child_done_at;
  enum lsa_action acts[8];
  int64_t act_at[8];
  int nact;
} sim;

void sim_init(sim *s, enum lsa_role role);
void sim_step(sim *s);
void sim_run(sim *s, int64_t ms);
int64_t sim_arm(sim *s);

#endif
