#include "qmpjson.h"

#include <stdio.h>
#include <string.h>

#define QJ_DEPTH 32

static const char *ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  return p;
}

static int hex4(const char *p, const char *e, unsigned *u) {
  if (e - p < 4) return -1;
  *u = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) return -1;
    *u = *u << 4 | (unsigned)v;
  }
  return 0;
}

/* p at '"': returns the position after the closing quote, or NULL */
static const char *skip_string(const char *p, const char *e) {
  p++;
  while (p < e) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c == '\\') {
      if (p + 1 >= e) return NULL;
      char x = p[1];
      if (x == 'u') {
        unsigned u;
        if (hex4(p + 2, e, &u)) return NULL;
        p += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", x) || !x) return NULL;
      p += 2;
      continue;
    }
    p++;
  }
  return NULL;
}

static const char *skip_number(const char *p, const char *e) {
  const char *s = p;
  if (p < e && *p == '-') p++;
  if (p >= e) return NULL;
  if (*p == '0') p++;
  else if (*p >= '1' && *p <= '9') while (p < e && *p >= '0' && *p <= '9') p++;
  else return NULL;
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') return NULL;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p >= e || *p < '0' || *p > '9') return NULL;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  return p > s ? p : NULL;
}

static const char *skip_value(const char *p, const char *e, int depth) {
  p = ws(p, e);
  if (p >= e || depth > QJ_DEPTH) return NULL;
  switch (*p) {
  case '"':
    return skip_string(p, e);
  case '{':
  case '[': {
    const char close = *p == '{' ? '}' : ']';
    const int obj = *p == '{';
    p = ws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
      if (obj) {
        p = ws(p, e);
        if (p >= e || *p != '"' || !(p = skip_string(p, e))) return NULL;
        p = ws(p, e);
        if (p >= e || *p != ':') return NULL;
        p++;
      }
      if (!(p = skip_value(p, e, depth + 1))) return NULL;
      p = ws(p, e);
      if (p >= e) return NULL;
      if (*p == close) return p + 1;
      if (*p != ',') return NULL;
      p++;
    }
  }
  case 't':
    return e - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
  case 'f':
    return e - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
  case 'n':
    return e - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
  default:
    return skip_number(p, e);
  }
}

int qj_valid(const char *s, size_t len) {
  const char *e = s + len;
  const char *p = skip_value(s, e, 0);
  return p && ws(p, e) == e ? 0 : -1;
}

int qj_string(qj_span v, char *out, size_t cap) {
  const char *p = v.p, *e = v.p + v.len;
  if (!cap || v.len < 2 || *p != '"' || skip_string(p, e) != e) return -1;
  size_t o = 0;
  for (p++; p < e - 1; p++) {
    char c = *p;
    if (c == '\\') {
      char x = *++p;
      if (x == 'u') {
        unsigned u = 0;
        hex4(p + 1, e, &u);
        p += 4;
        c = u < 0x80 && u >= 0x20 ? (char)u : '?';
      } else {
        c = x == 'n' ? '\n' : x == 't' ? '\t' : x == 'r' ? '\r' : x == 'b' ? '\b' : x == 'f' ? '\f' : x;
      }
    }
    if (o + 1 < cap) out[o++] = c;
  }
  out[o] = 0;
  return 0;
}

int qj_get(const char *s, size_t len, const char *key, qj_span *out) {
  const char *e = s + len;
  const char *p = ws(s, e);
  if (p >= e || *p != '{') return -1;
  p = ws(p + 1, e);
  if (p < e && *p == '}') return -1;
  char k[64];
  for (;;) {
    p = ws(p, e);
    const char *ks = p;
    if (p >= e || *p != '"' || !(p = skip_string(p, e))) return -1;
    int match = qj_string((qj_span){ks, (size_t)(p - ks)}, k, sizeof k) == 0 && (size_t)(p - ks) - 2 < sizeof k &&
                !strcmp(k, key);
    p = ws(p, e);
    if (p >= e || *p != ':') return -1;
    const char *vs = ws(p + 1, e);
    if (!(p = skip_value(vs, e, 1))) return -1;
    if (match) {
      out->p = vs;
      out->len = (size_t)(p - vs);
      return 0;
    }
    p = ws(p, e);
    if (p >= e || *p != ',') return -1;
    p++;
  }
}

int qj_index(qj_span arr, size_t i, qj_span *out) {
  const char *p = arr.p, *e = arr.p + arr.len;
  if (p >= e || *p != '[') return -1;
  p = ws(p + 1, e);
  if (p < e && *p == ']') return -1;
  for (size_t k = 0;; k++) {
    const char *vs = ws(p, e);
    if (!(p = skip_value(vs, e, 1))) return -1;
    if (k == i) {
      out->p = vs;
      out->len = (size_t)(p - vs);
      return 0;
    }
    p = ws(p, e);
    if (p >= e || *p != ',') return -1;
    p++;
  }
}

enum qmp_kind qmp_classify(const char *line, size_t len, long *id, char *desc, size_t desc_cap) {
  qj_span v;
  *id = -1;
  if (desc_cap) desc[0] = 0;
  if (qj_valid(line, len)) return QMP_BAD;
  const char *p = ws(line, line + len);
  if (*p != '{') return QMP_BAD;
  if (qj_get(line, len, "QMP", &v) == 0) return QMP_GREETING;
  if (qj_get(line, len, "event", &v) == 0) return QMP_EVENT;
  int ret = qj_get(line, len, "return", &v) == 0;
  qj_span er;
  int err = qj_get(line, len, "error", &er) == 0;
  if (!ret && !err) return QMP_OTHER;
  qj_span idv;
  if (qj_get(line, len, "id", &idv) == 0 && idv.len > 0 && idv.len < 12) {
    long x = 0;
    size_t k = 0;
    for (; k < idv.len && idv.p[k] >= '0' && idv.p[k] <= '9'; k++) x = x * 10 + (idv.p[k] - '0');
    if (k == idv.len) *id = x;
  }
  if (!err) return QMP_RETURN;
  char cls[64] = "", d[256] = "";
  qj_span f;
  if (er.len && *er.p == '{') {
    if (qj_get(er.p, er.len, "class", &f) == 0) qj_string(f, cls, sizeof cls);
    if (qj_get(er.p, er.len, "desc", &f) == 0) qj_string(f, d, sizeof d);
  }
  if (desc_cap) snprintf(desc, desc_cap, "%s%s%s", cls[0] ? cls : "error", d[0] ? ": " : "", d);
  return QMP_ERROR;
}
