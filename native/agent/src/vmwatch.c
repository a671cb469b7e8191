#include "vmwatch.h"

#define LSA_PID_MAX 4194304L /* the kernel's limit (pid_max on 64-bit) */

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

long lsa_pidfile_parse(const char *text, size_t len) {
  size_t i = 0;
  while (i < len && blank(text[i])) i++;
  long pid = 0;
  size_t digits = 0;
  while (i < len && text[i] >= '0' && text[i] <= '9') {
    pid = pid * 10 + (text[i] - '0');
    if (pid > LSA_PID_MAX) return -1;
    i++;
    digits++;
  }
  while (i < len && blank(text[i])) i++;
  if (i != len || digits == 0 || pid < 1) return -1;
  return pid;
}

int lsa_proc_stat_dead(const char *text, size_t len) {
  size_t close = len;
  for (size_t i = 0; i < len; i++)
    if (text[i] == ')') close = i;
  if (close == len || close + 2 >= len || text[close + 1] != ' ') return -1;
  char st = text[close + 2];
  if (st == 'Z' || st == 'X' || st == 'x') return 1;
  if ((st >= 'A' && st <= 'Z') || (st >= 'a' && st <= 'z')) return 0;
  return -1;
}
