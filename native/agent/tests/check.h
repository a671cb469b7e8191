/* check.h: the counters and CHECK macros shared by the agent's unit test files. */
#ifndef LSA_CHECK_H
#define LSA_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "json.h"
#include "sha256.h"
#include "wire.h"

extern int g_fail, g_checks;
#define CHECK(cond)                                                        \
  do {                                                                     \
    g_checks++;                                                            \
    if (!(cond)) {                                                         \
      g_fail++;                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)
#define CHECK_EQ_INT(a, b)                                                           \
  do {                                                                               \
    long long _a = (long long)(a), _b = (long long)(b);                              \
    g_checks++;                                                                      \
    if (_a != _b) {                                                                  \
      g_fail++;                                                                      \
      fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #a, _a, _b); \
    }                                                                                \
  } while (0)

/* the test functions, one per concern (unit_wire.c, unit_decide.c, unit_qmp.c) */
void test_sha256(void);
void test_hmac(void);
void test_wire(void);
void test_replay(void);
void test_config(void);
void test_json(void);
void test_vmwatch(void);
void test_qmpjson(void);
void test_decide_arming(void);
void test_decide_hysteresis(void);
void test_decide_failover(void);
void test_decide_degraded(void);
void test_decide_isolated(void);
void test_decide_partition(void);
void test_decide_witness_lag(void);
void test_decide_pure(void);
void test_decide_held(void);

#endif
