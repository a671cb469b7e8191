/* Running the configured action (argv, no shell) as a child process, and reaping it. */
#include "agent.h"

/* ---------------------------------------------------------------- the action */

void start_action(agent *a, enum lsa_action act, int64_t now) {
  const lsa_cmd *cmd = act == LSA_A_FAILOVER   ? &a->cfg.failover_cmd
                       : act == LSA_A_CONTINUE ? &a->cfg.continue_cmd
                                               : &a->cfg.degraded_cmd;
  a->last_action = act;
  a->child_action = act;
  a->child_started = now;
  a->action_started_wall = wall_ms();
  a->action_finished_wall = -1;
  if (!cmd->argc) {
    logf_(a, "action %s: no command configured; recorded as done", lsa_action_name(act));
    a->in.child_done = 1;
    a->in.child_rc = 0;
    a->last_rc = 0;
    a->last_action_ms = 0;
    a->action_finished_wall = a->action_started_wall;
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    logf_(a, "action %s: fork failed: %s", lsa_action_name(act), strerror(errno));
    a->in.child_done = 1;
    a->in.child_rc = -1;
    a->last_rc = -1;
    a->action_finished_wall = wall_ms();
    return;
  }
  if (pid == 0) {
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    int lf = fileno(a->log ? a->log : stderr);
    dup2(lf, 1);
    dup2(lf, 2);
    char buf[32];
    setenv("LOCKSTEP_ACTION", lsa_action_name(act), 1);
    setenv("LOCKSTEP_ROLE", a->cfg.role == LSA_ROLE_PRIMARY ? "primary" : "secondary", 1);
    setenv("LOCKSTEP_CLUSTER", a->cfg.cluster, 1);
    setenv("LOCKSTEP_REASON", a->st.reason, 1);
    int64_t last = a->in.heard[0] > a->in.heard[1] ? a->in.heard[0] : a->in.heard[1];
    snprintf(buf, sizeof buf, "%lld", last < 0 ? -1LL : (long long)(now - last));
    setenv("LOCKSTEP_PEER_SILENT_MS", buf, 1);
    execv(cmd->argv[0], cmd->argv);
    fprintf(stderr, "lockstep-agent: exec %s: %s\n", cmd->argv[0], strerror(errno));
    _exit(127);
  }
  a->child = pid;
  logf_(a, "action %s: started %s (pid %d)", lsa_action_name(act), cmd->argv[0], (int)pid);
}

void reap_child(agent *a, int64_t now) {
  if (a->child <= 0) return;
  int status = 0, killed = 0;
  pid_t r = waitpid(a->child, &status, WNOHANG);
  if (r < 0 && errno == EINTR) return;
  if (r == 0) {
    if (now - a->child_started <= a->cfg.action_timeout_ms) return;
    logf_(a, "action %s: no exit after %lld ms, killing pid %d", lsa_action_name(a->child_action),
          (long long)a->cfg.action_timeout_ms, (int)a->child);
    kill(-a->child, SIGKILL);
    kill(a->child, SIGKILL);
    while (waitpid(a->child, &status, 0) < 0 && errno == EINTR) {}
    killed = 1;
  }
  int rc = killed || r < 0           ? -1
           : WIFEXITED(status)       ? WEXITSTATUS(status)
           : WIFSIGNALED(status)     ? 128 + WTERMSIG(status)
                                     : -1;
  a->child = 0;
  a->in.child_done = 1;
  a->in.child_rc = rc;
  a->last_rc = rc;
  a->last_action_ms = now - a->child_started;
  a->action_finished_wall = wall_ms();
  logf_(a, "action %s: finished rc=%d after %lld ms", lsa_action_name(a->child_action), rc,
        (long long)a->last_action_ms);
}

