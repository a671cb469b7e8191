#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void jb_init(jbuf *b, char *mem, size_t cap) {
  b->p = mem;
  b->cap = cap;
  b->len = 0;
  b->overflow = cap == 0;
  if (cap) mem[0] = 0;
}

static void put(jbuf *b, const char *s, size_t n) {
  if (b->overflow) return;
  if (b->len + n + 1 > b->cap) {
    b->overflow = 1;
    return;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void jb_raw(jbuf *b, const char *s) { put(b, s, strlen(s)); }

void jb_printf(jbuf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp) {
    b->overflow = 1;
    return;
  }
  put(b, tmp, (size_t)n);
}

void jb_str(jbuf *b, const char *s) {
  put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    switch (*p) {
    case '"': put(b, "\\\"", 2); break;
    case '\\': put(b, "\\\\", 2); break;
    case '\n': put(b, "\\n", 2); break;
    case '\r': put(b, "\\r", 2); break;
    case '\t': put(b, "\\t", 2); break;
    default:
      if (*p < 0x20 || *p == 0x7f) {
        snprintf(esc, sizeof esc, "\\u%04x", *p);
        put(b, esc, 6);
      } else {
        put(b, (const char *)p, 1);
      }
    }
  }
  put(b, "\"", 1);
}

void jb_key(jbuf *b, const char *k) {
  jb_str(b, k);
  put(b, ":", 1);
}

int jb_ok(const jbuf *b) { return !b->overflow; }
