/* The agent's unit tests: runs every test function and counts checks. No I/O. */
#include "check.h"

int g_fail, g_checks;

int main(void) {
  struct { const char *name; void (*fn)(void); } tests[] = {
      {"sha256", test_sha256},
      {"hmac", test_hmac},
      {"wire", test_wire},
      {"replay", test_replay},
      {"config", test_config},
      {"json", test_json},
      {"vm watch", test_vmwatch},
      {"qmp json", test_qmpjson},
      {"decide: arming", test_decide_arming},
      {"decide: hysteresis", test_decide_hysteresis},
      {"decide: failover", test_decide_failover},
      {"decide: degraded", test_decide_degraded},
      {"decide: isolated", test_decide_isolated},
      {"decide: partition", test_decide_partition},
      {"decide: a late last ping to the witness is no sign of life", test_decide_witness_lag},
      {"decide: pure", test_decide_pure},
      {"decide: held", test_decide_held}};
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    int before = g_fail;
    tests[i].fn();
    printf("%s %s\n", g_fail == before ? "ok  " : "FAIL", tests[i].name);
  }
  printf("%d checks, %d failed\n", g_checks, g_fail);
  return g_fail ? 1 : 0;
}
