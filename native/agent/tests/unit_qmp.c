/* The QMP line scanner colo-failover reads QEMU's replies with (src/qmpjson.c). No I/O. */
#include "check.h"
#include "qmpjson.h"

static enum qmp_kind classify(const char *s, long *id, char *desc, size_t cap) {
  return qmp_classify(s, strlen(s), id, desc, cap);
}

void test_qmpjson(void) {
  long id;
  char desc[128];
  CHECK_EQ_INT(classify("{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}", &id, desc, sizeof desc), QMP_GREETING);
  CHECK_EQ_INT(classify("{\"event\": \"COLO_EXIT\", \"data\": {\"reason\": \"error\"}}", &id, desc, sizeof desc), QMP_EVENT);
  CHECK_EQ_INT(classify("{\"return\": {}, \"id\": 7}", &id, desc, sizeof desc), QMP_RETURN);
  CHECK_EQ_INT(id, 7);
  CHECK_EQ_INT(classify("{\"return\": {}}", &id, desc, sizeof desc), QMP_RETURN);
  CHECK_EQ_INT(id, -1);
  CHECK_EQ_INT(classify("{\"id\": \"7\", \"return\": {}}", &id, desc, sizeof desc), QMP_RETURN);
  CHECK_EQ_INT(id, -1); /* a string id is not ours */
  CHECK_EQ_INT(classify("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no \\\"x\\\"\"}, \"id\": 3}", &id, desc, sizeof desc),
               QMP_ERROR);
  CHECK_EQ_INT(id, 3);
  CHECK(!strcmp(desc, "GenericError: no \"x\""));
  /* "error" inside a string of a success is not an error */
  CHECK_EQ_INT(classify("{\"return\": {\"note\": \"\\\"error\\\": {}\"}, \"id\": 4}", &id, desc, sizeof desc), QMP_RETURN);
  /* a truncated line, trailing garbage, a bare value, control characters in a string: not replies */
  CHECK_EQ_INT(classify("{\"return\": {}, \"id\": 4", &id, desc, sizeof desc), QMP_BAD);
  CHECK_EQ_INT(classify("{\"return\": {}} x", &id, desc, sizeof desc), QMP_BAD);
  CHECK_EQ_INT(classify("[1,2]", &id, desc, sizeof desc), QMP_BAD);
  CHECK_EQ_INT(classify("{\"return\": \"a\tb\"}", &id, desc, sizeof desc), QMP_BAD);
  CHECK_EQ_INT(classify("{\"return\": 01}", &id, desc, sizeof desc), QMP_BAD);
  CHECK_EQ_INT(classify("{\"return\": tru}", &id, desc, sizeof desc), QMP_BAD);
  CHECK_EQ_INT(classify("", &id, desc, sizeof desc), QMP_BAD);
  CHECK_EQ_INT(classify("{\"other\": 1}", &id, desc, sizeof desc), QMP_OTHER);
  /* nesting deeper than the scanner's limit is refused, not recursed into */
  char deep[200];
  size_t k = 0;
  k += (size_t)snprintf(deep, sizeof deep, "{\"return\":");
  for (int i = 0; i < 40; i++) deep[k++] = '[';
  for (int i = 0; i < 40; i++) deep[k++] = ']';
  deep[k++] = '}';
  deep[k] = 0;
  CHECK_EQ_INT(classify(deep, &id, desc, sizeof desc), QMP_BAD);

  /* reading values */
  const char *line = "{\"return\": {\"mode\": \"none\", \"last-mode\": \"secondary\"}, \"id\": 9}";
  qj_span ret, m;
  char s[32];
  CHECK_EQ_INT(qj_get(line, strlen(line), "return", &ret), 0);
  CHECK_EQ_INT(qj_get(ret.p, ret.len, "mode", &m), 0);
  CHECK_EQ_INT(qj_string(m, s, sizeof s), 0);
  CHECK(!strcmp(s, "none"));
  CHECK_EQ_INT(qj_get(ret.p, ret.len, "absent", &m), -1);
  CHECK_EQ_INT(qj_get("[1]", 3, "x", &m), -1);
  const char *arr = "{\"return\": [{\"type\": \"migration\"}, {\"type\": \"block-node\", \"node-name\": \"nbd0\"}]}";
  qj_span el, f;
  CHECK_EQ_INT(qj_get(arr, strlen(arr), "return", &ret), 0);
  CHECK_EQ_INT(qj_index(ret, 1, &el), 0);
  CHECK_EQ_INT(qj_get(el.p, el.len, "node-name", &f), 0);
  CHECK_EQ_INT(qj_string(f, s, sizeof s), 0);
  CHECK(!strcmp(s, "nbd0"));
  CHECK_EQ_INT(qj_index(ret, 2, &el), -1);
  /* escapes: \u outside ASCII becomes '?', truncation keeps a NUL */
  qj_span u = {"\"a\\u00e9\\n\"", 11};
  CHECK_EQ_INT(qj_string(u, s, sizeof s), 0);
  CHECK(!strcmp(s, "a?\n"));
  char tiny[3];
  qj_span longs = {"\"abcdef\"", 8};
  CHECK_EQ_INT(qj_string(longs, tiny, sizeof tiny), 0);
  CHECK(!strcmp(tiny, "ab"));
  qj_span notstr = {"12", 2};
  CHECK_EQ_INT(qj_string(notstr, s, sizeof s), -1);
  /* a key longer than the scanner's key buffer never matches a short key by truncation */
  const char *longkey = "{\"modeXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\": 1, \"mode\": 2}";
  CHECK_EQ_INT(qj_get(longkey, strlen(longkey), "mode", &m), 0);
  CHECK(m.len == 1 && m.p[0] == '2');
}
