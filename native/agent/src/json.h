/* Minimal JSON writer into a fixed buffer (status lines). On overflow the buffer keeps a
 * truncated prefix and jb_ok() is false. */
#ifndef LSA_JSON_H
#define LSA_JSON_H
#include <stddef.h>

typedef struct {
  char *p;
  size_t cap, len;
  int overflow;
} jbuf;

void jb_init(jbuf *b, char *mem, size_t cap);
void jb_raw(jbuf *b, const char *s);
void jb_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jb_str(jbuf *b, const char *s); /* quoted and escaped */
void jb_key(jbuf *b, const char *k); /* "k": */
int jb_ok(const jbuf *b);
#endif
