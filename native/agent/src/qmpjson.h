/* Just enough JSON to read QMP replies, as a pure scanner over one line: no allocation, no
 * I/O. It validates the syntax it walks (strings, numbers, literals, nesting depth) so an
 * "error" reply cannot hide inside a string, and a truncated line is not a reply. */
#ifndef LSA_QMPJSON_H
#define LSA_QMPJSON_H
#include <stddef.h>

typedef struct {
  const char *p; /* start of the value's text */
  size_t len;    /* its length (a string keeps its quotes and escapes) */
} qj_span;

/* The whole text is one JSON value (surrounding blanks allowed): 0, else -1. */
int qj_valid(const char *s, size_t len);
/* In the top-level object s, the value of key (compared after unescaping): 0 found, -1 not
 * (or s is not an object). */
int qj_get(const char *s, size_t len, const char *key, qj_span *out);
/* A JSON string value → its text (\u escapes outside ASCII become '?'); NUL-terminated,
 * truncated to cap-1. 0, or -1 if v is not a string. */
int qj_string(qj_span v, char *out, size_t cap);
/* The i-th element of an array value: 0, or -1 (not an array or no such element). */
int qj_index(qj_span arr, size_t i, qj_span *out);

/* What a QMP line is. */
enum qmp_kind { QMP_BAD = 0, QMP_GREETING, QMP_EVENT, QMP_RETURN, QMP_ERROR, QMP_OTHER };
/* Classifies one line; for RETURN/ERROR fills *id (-1 if absent or not an integer) and for
 * ERROR the error's "desc" (and class) into desc. */
enum qmp_kind qmp_classify(const char *line, size_t len, long *id, char *desc, size_t desc_cap);
#endif
