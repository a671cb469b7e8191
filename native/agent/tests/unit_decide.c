/* Unit tests of lsa_decide(), driven by a small deterministic simulator (1 ms steps). */
#include "check.h"

#include "decide_sim.h"

void test_decide_arming(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  sim_run(&s, 500);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING); /* crossover must be steady for rearm_ms */
  int64_t t = sim_arm(&s);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  CHECK(t + 500 >= 1000 && t + 500 <= 1030);
  CHECK(lsa_kind_armed(s.st.kind));

  /* peer never heard: waits forever, never acts, even with the witness fine */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.peer_alive = 0;
  sim_run(&s, 10000);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  CHECK_EQ_INT(s.nact, 0);
  /* nothing at all (no peer, no witness): isolated once the witness had its chance */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.peer_alive = 0;
  s.witness_link = 0;
  sim_run(&s, 299);
  CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
  sim_run(&s, 2);
  CHECK_EQ_INT(s.st.kind, LSA_K_ISOLATED);
  CHECK_EQ_INT(s.nact, 0);
}

void test_decide_hysteresis(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  /* one lost heartbeat round, then up to 13 consecutive rounds (260 ms): nothing happens */
  for (int lost = 1; lost <= 13; lost++) {
    s.drop_hb = lost;
    sim_run(&s, 600);
    CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  }
  /* lost pongs too */
  s.drop_pongs = 10;
  s.drop_hb = 5;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  CHECK_EQ_INT(s.nact, 0);
  /* public flapping alone never matters */
  for (int i = 0; i < 10; i++) {
    s.pub_link = 0;
    sim_run(&s, 400);
    CHECK_EQ_INT(s.st.kind, LSA_K_PUBLIC_LOST);
    s.pub_link = 1;
    sim_run(&s, 100);
    CHECK_EQ_INT(s.st.kind, LSA_K_PROTECTED);
  }
  CHECK_EQ_INT(s.nact, 0);
}

void test_decide_failover(void) {
  sim s;
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  sim_run(&s, 7); /* die between heartbeats */
  int64_t died = s.now;
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_FAILOVER);
  int64_t det = s.act_at[0] - died;
  /* the last heartbeat was <= 20 ms before the death; then timeout + witness confirmation */
  CHECK(det >= 280 && det <= 360);
  printf("  simulated detection (secondary, 20 ms heartbeats, 300 ms timeout): %lld ms\n",
         (long long)det);
  CHECK_EQ_INT(s.st.kind, LSA_K_TOOK_OVER);
  /* terminal: the peer coming back (not solo) changes nothing, no second action */
  s.peer_alive = 1;
  sim_run(&s, 3000);
  CHECK_EQ_INT(s.st.kind, LSA_K_TOOK_OVER);
  CHECK_EQ_INT(s.nact, 1);
  /* ... but if it says it acted too: split brain */
  s.peer_solo = 1;
  sim_run(&s, 100);
  CHECK_EQ_INT(s.st.kind, LSA_K_SPLIT_BRAIN);
  CHECK_EQ_INT(s.nact, 1);

  /* primary: the secondary dies -> continue alone */
  sim_init(&s, LSA_ROLE_PRIMARY);
  sim_arm(&s);
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_CONTINUE);
  CHECK_EQ_INT(s.st.kind, LSA_K_ALONE);
  CHECK(lsa_kind_solo(s.st.kind));

  /* the command fails: action-failed, no retry */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.child_rc_next = 3;
  s.peer_alive = 0;
  sim_run(&s, 5000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.st.kind, LSA_K_FAILED);

  /* a dying host's last packets on the two paths are a few ms apart: still a takeover */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.xo_link = 0;
  sim_run(&s, 150); /* the public heartbeats outlive the crossover by 150 ms */
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_FAILOVER);

  /* public lost first (still protected), then the whole host */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.pub_link = 0;
  sim_run(&s, 2000);
  CHECK_EQ_INT(s.st.kind, LSA_K_PUBLIC_LOST);
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
  CHECK_EQ_INT(s.acts[0], LSA_A_FAILOVER);

  /* the witness never heard the peer (e.g. restarted after the death): still a takeover */
  sim_init(&s, LSA_ROLE_SECONDARY);
  s.peer_to_witness = 0;
  sim_arm(&s);
  s.peer_alive = 0;
  sim_run(&s, 1000);
  CHECK_EQ_INT(s.nact, 1);
}

void test_decide_pure(void) {
  /* same inputs, same answer; the input state is not modified */
  lsa_dconf cf = {.role = LSA_ROLE_SECONDARY, .timeout_ms = 300, .witness_timeout_ms = 300,
                  .rearm_ms = 1000, .has_witness = 1};
  lsa_state st;
  lsa_state_init(&st, 0);
  st.kind = LSA_K_PROTECTED;
  lsa_inputs in = {.heard = {1000, 1000}, .witness_ok_at = 1250, .witness_ok_sent = 1249,
                   .witness_peer_age = 400};
  lsa_state copy = st;
  lsa_decision a = lsa_decide(&cf, &st, &in, 1300);
  lsa_decision b = lsa_decide(&cf, &st, &in, 1300);
  CHECK(!memcmp(&st, &copy, sizeof st));
  CHECK(!memcmp(&a, &b, sizeof a));
  CHECK_EQ_INT(a.action, LSA_A_FAILOVER);
  /* a pong for a ping sent right after the last heartbeat is no proof */
  in.witness_ok_sent = 1100;
  a = lsa_decide(&cf, &st, &in, 1300);
  CHECK_EQ_INT(a.action, LSA_A_NONE);
  CHECK_EQ_INT(a.next.kind, LSA_K_SUSPECT);
  CHECK(strcmp(lsa_kind_name(LSA_K_SPLIT_BRAIN), "split-brain") == 0);
  CHECK(strcmp(lsa_action_name(LSA_A_CONTINUE), "continue-alone") == 0);
}

/* held by the app (status socket "hold"): disarmed at once, never acts, never re-arms; an
 * action already running still finishes */
void test_decide_held(void) {
  sim s;
  for (int role = LSA_ROLE_PRIMARY; role <= LSA_ROLE_SECONDARY; role++) {
    sim_init(&s, (enum lsa_role)role);
    s.cf.degraded_action = 1;
    sim_arm(&s);
    s.in.held = 1;
    sim_step(&s);
    CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
    CHECK(strstr(s.st.reason, "held") != NULL);
    s.peer_alive = 0; /* the peer dies (or its agent stops): witness confirms, still nothing */
    sim_run(&s, 3000);
    CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
    s.peer_alive = 1; /* back, steady for long: never re-armed while held */
    sim_run(&s, 3000);
    CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
    s.xo_link = 0; /* crossover cut: no degraded action either */
    sim_run(&s, 1000);
    CHECK_EQ_INT(s.st.kind, LSA_K_WAITING);
    CHECK_EQ_INT(s.nact, 0);
  }
  /* held while acting: the command finishes and its outcome counts */
  sim_init(&s, LSA_ROLE_SECONDARY);
  sim_arm(&s);
  s.peer_alive = 0;
  for (int i = 0; i < 2000 && s.st.kind != LSA_K_ACTING; i++) sim_step(&s);
  CHECK_EQ_INT(s.st.kind, LSA_K_ACTING);
  s.in.held = 1;
  sim_run(&s, 20);
  CHECK_EQ_INT(s.st.kind, LSA_K_TOOK_OVER);
  CHECK_EQ_INT(s.nact, 1);
}
