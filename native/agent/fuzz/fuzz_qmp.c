/* libFuzzer harness for the QMP reply scanner colo-failover reads QEMU's monitor with
 * (src/qmpjson.c). Invariants: classification never reads outside the line; whatever it calls
 * a reply or an event is valid JSON; every value it hands out lies inside the line, and a
 * string value unescapes into a NUL-terminated buffer within its capacity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmpjson.h"

static void inside(const char *s, size_t len, qj_span v) {
  if (v.p < s || v.len > len || v.p + v.len > s + len) abort();
}

static void walk(const char *s, size_t len, qj_span v, int depth) {
  inside(s, len, v);
  char out[16];
  if (qj_string(v, out, sizeof out) == 0 && !memchr(out, 0, sizeof out)) abort();
  if (depth > 3) return;
  qj_span el;
  for (size_t i = 0; i < 8 && qj_index(v, i, &el) == 0; i++) walk(s, len, el, depth + 1);
  static const char *const keys[] = {"return", "error", "event", "mode", "desc", "class", "type", "node-name", "id", "QMP"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
    if (qj_get(v.p, v.len, keys[k], &el) == 0) walk(s, len, el, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* an exact-size copy: ASan catches any read past the line */
  char *s = malloc(size ? size : 1);
  if (!s) return 0;
  memcpy(s, data, size);
  long id;
  char desc[64];
  enum qmp_kind k = qmp_classify(s, size, &id, desc, sizeof desc);
  if (k != QMP_BAD && qj_valid(s, size) != 0) abort();
  if ((k == QMP_RETURN || k == QMP_ERROR) && id < -1) abort();
  if (!memchr(desc, 0, sizeof desc)) abort();
  walk(s, size, (qj_span){s, size}, 0);
  free(s);
  return 0;
}
