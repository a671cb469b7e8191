/* Watching the local VM (vm_pidfile): pure parsing of a pid file and of /proc/PID/stat.
 * The agent (util.c) reads the files; this decides what their bytes say. No I/O. */
#ifndef LSA_VMWATCH_H
#define LSA_VMWATCH_H
#include <stddef.h>

/* A pid file's text: optional blanks, decimal digits (1..4194304), optional blanks/newline.
 * Returns the pid, or -1 if the text is anything else (empty, garbage, out of range). */
long lsa_pidfile_parse(const char *text, size_t len);

/* /proc/PID/stat's text: 1 = the process is a zombie or dead ('Z', 'X', 'x'), 0 = it runs,
 * -1 = not a stat line. The state is the first field after the LAST ')' (comm may hold ')'). */
int lsa_proc_stat_dead(const char *text, size_t len);
#endif
