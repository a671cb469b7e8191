/* Unit tests of lsa_decide() under faults: a lost crossover, an isolated host, a partition. */
#include "decide_sim.h"

void test_decide_degraded(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = 0; /* crossover cut, peer alive on public */
  sim_run(&s, 10000);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  CHECK(!lsa_kind_armed(s.st.kind));
  CHECK_EQ_INT(s.nact, 0);
  /* degraded is disarmed: the peer dying now is NOT a takeover (our copy is stale) */
  s.peer_alive = 0;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.nact, 0);
  s.peer_alive = 1;
  sim_run(&s, 100);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  /* crossover back: waiting, then re-armed after rearm_ms */
  s.xo_link = 1;
  sim_run(&s, 100);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  /* a flapping crossover (back for less than rearm_ms) never re-arms */
  s.xo_link = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  for (int i = 0; i < 5; i++) {
    s.xo_link = 1;
    sim_run(&s, 500);
    CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
    s.xo_link = 0;
    sim_run(&s, 400);
  }
  CHECK(!lsa_kind_armed(s.st.kind));
  CHECK_EQ_INT(s.nact, 0);

  /* primary: degraded, no action unless degraded_cmd is configured */
  sim_init(&s, LSA_ROLE_PRIMARY);
  sim_arm(&s);
  s.xo_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.st.kind, LSA_K_DEGRADED);
  CHECK_EQ_INT(s.nact, 0);
  sim_init(&s, LSA_ROLE_PRIMARY);
  s.cf.degraded_action = 1;
  sim_arm(&s);
  s.xo_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_DEGRADED);
  CHECK_EQ_INT(s.st.kind, LSA_K_ALONE);
}

void test_decide_isolated(void) {
  sim s;
  /* the secondary loses everything: peer and witness */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = s.pub_link = s.witness_link = 0;
  sim_run(&s, 10000);
  CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
  CHECK_EQ_INT(s.nact, 0);
  /* the witness comes back first: still no takeover (we were cut off, not the peer) */
  s.witness_link = 1;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.nact, 0);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  /* links back: re-armed after rearm_ms */
  s.xo_link = s.pub_link = 1;
  sim_arm(&s);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);

  /* the primary isolated: no continue-alone; every phase of the cut vs the ping cycle */
  for (int phase = 0; phase < 20; phase++) {
    sim_init(&s, LSA_ROLE_PRIMARY);
    sim_arm(&s);
    sim_run(&s, phase);
    s.xo_link = s.pub_link = s.witness_link = 0;
    sim_run(&s, 3000);
    CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
    CHECK_EQ_INT(s.nact, 0);
  }
  /* nor the secondary, whatever the phase, even if the primary is really dead */
  for (int phase = 0; phase < 20; phase++) {
    sim_init(&s, LSA_ROLE_SECONDARY);
    sim_arm(&s);
    sim_run(&s, phase);
    s.xo_link = s.pub_link = s.witness_link = 0;
    s.peer_alive = 0;
    sim_run(&s, 3000);
    CHECK_EQ_INT(s.nact, 0);
  }
  /* no witness configured: never acts */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.cf.has_witness = 0;
  s.witness_link = 0;
  sim_arm(&s);
  s.peer_alive = 0;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
  CHECK_EQ_INT(s.nact, 0);
}

void test_decide_partition(void) {
  /* both links between the hosts cut, both still reach the witness */
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = s.pub_link = 0;
  sim_run(&s, 5000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PARTITIONED);
  CHECK_EQ_INT(s.nact, 0);
  /* the primary then dies: we stay out (it has been running alone: we are stale) */
  s.peer_alive = 0;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.nact, 0);

  sim_init(&s, LSA_ROLE_PRIMARY); /* the primary wins the partition */
  sim_arm(&s);
  s.xo_link = s.pub_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_CONTINUE);

  /* after the partition heals, a secondary whose primary runs alone does not re-arm */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = s.pub_link = 0;
  sim_run(&s, 2000);
  s.peer_solo = 1;
  s.xo_link = s.pub_link = 1;
  sim_run(&s, 5000);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  CHECK_EQ_INT(s.nact, 0);
  /* the peer turning solo while we are armed disarms us at once */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.peer_solo = 1;
  sim_run(&s, 50);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
}

void test_decide_witness_lag(void) {
  /* the primary dies; its last ping reached the witness up to 19 ms after its last heartbeat
   * reached us: the witness's age of it at our first question is just under timeout_ms. That is
   * not a partition (measured in a lab drill: "the witness heard it 299 ms ago: partition, no
   * takeover", and the guest stayed down): we take over, whatever the lag and the phase */
  for (int lag = 0; lag < 20; lag++)
    for (int phase = 0; phase < 20; phase += 5) {
      sim s;
      sim_init(&s, LSA_ROLE_SECONDARY);
      s.peer_witness_lag = lag;
      sim_arm(&s);
      sim_run(&s, phase);
      s.peer_alive = 0;
      sim_run(&s, 2000);
      CHECK_EQ_INT(s.nact, 1);
      CHECK_EQ_INT(s.acts[0], LSA_A_FAILOVER);
    }
  /* and a primary cut off from us that still reaches the witness (late pings too) is a partition */
  for (int lag = 0; lag < 20; lag++) {
    sim s;
    sim_init(&s, LSA_ROLE_SECONDARY);
    s.peer_witness_lag = lag;
    sim_arm(&s);
    s.xo_link = s.pub_link = 0;
    sim_run(&s, 3000);
    CHECK_EQ_INT(s.st.kind, LSA_K_PARTITIONED);
    CHECK_EQ_INT(s.nact, 0);
  }
}
