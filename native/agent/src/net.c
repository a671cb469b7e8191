/* Heartbeats, pings and the witness: building, sending, receiving and checking messages. */
#include "agent.h"

/* ---------------------------------------------------------------- messages */

void reject(agent *a, int why, const char *where, int64_t now) {
  a->rej[why]++;
  if (a->rej[why] == 1 || now - a->rej_logged_at[why] >= 1000) { /* <= 1 line/s per kind */
    a->rej_logged_at[why] = now;
    logf_(a, "rejected a datagram on %s: %s (total %llu)", where, rej_name(why),
          (unsigned long long)a->rej[why]);
  }
}

void fill_msg(agent *a, lsa_msg *m, uint8_t type, uint8_t path) {
  memset(m, 0, sizeof *m);
  m->type = type;
  m->role = (uint8_t)(a->witness_mode ? LSA_ROLE_WITNESS : a->cfg.role);
  m->path = path;
  memcpy(m->cluster, a->cfg.cluster, sizeof m->cluster);
  m->seq = ++a->seq;
  m->wall_ms = (uint64_t)wall_ms();
  if (!a->witness_mode) {
    m->state = (uint8_t)a->st.kind;
    m->flags = lsa_kind_solo(a->st.kind) ? LSA_FLAG_SOLO : 0;
  }
}

/* One sample of our seq counter every 100 ms: what "recent" means for echoes. */
void seq_hist_tick(agent *a, int64_t now) {
  if (a->hist_n && now - a->hist[(a->hist_n - 1) % HIST].t < 100) return;
  a->hist[a->hist_n % HIST].t = now;
  a->hist[a->hist_n % HIST].seq = a->seq;
  a->hist_n++;
}
/* Our seq as it was FRESH_MS ago (echoes above it are recent). */
uint64_t seq_recent_floor(const agent *a, int64_t now) {
  uint64_t floor = a->seq0;
  unsigned n = a->hist_n < HIST ? a->hist_n : HIST;
  for (unsigned k = 0; k < n; k++) {
    unsigned i = (a->hist_n - n + k) % HIST;
    if (a->hist[i].t <= now - FRESH_MS) floor = a->hist[i].seq;
  }
  return floor;
}

void send_heartbeats(agent *a, int64_t now) {
  for (int i = 0; i < 2; i++) {
    lsa_msg m;
    uint8_t buf[LSA_MSG_LEN];
    fill_msg(a, &m, LSA_T_HEARTBEAT, (uint8_t)(i == 0 ? LSA_PATH_CROSSOVER : LSA_PATH_PUBLIC));
    int64_t h = a->in.heard[i];
    m.echo = a->echo_out[i];
    m.age_ms = h < 0 ? LSA_AGE_NEVER : (uint32_t)(now - h > 0xFFFFFFFE ? 0xFFFFFFFE : now - h);
    lsa_encode(&m, &a->key, buf);
    if (sendto(a->pfd[i], buf, sizeof buf, MSG_DONTWAIT, (const struct sockaddr *)&a->ppeer[i]->ss,
               a->ppeer[i]->len) != (ssize_t)sizeof buf)
      a->tx_err[i]++;
  }
}

void send_ping(agent *a, int64_t now) {
  lsa_msg m;
  uint8_t buf[LSA_MSG_LEN];
  fill_msg(a, &m, LSA_T_PING, LSA_PATH_WITNESS);
  m.echo = a->witness_echo;
  lsa_encode(&m, &a->key, buf);
  a->ping[a->ping_next].seq = m.seq;
  a->ping[a->ping_next].sent = now;
  a->ping_next = (a->ping_next + 1) % MAX_PINGS;
  if (sendto(a->wfd, buf, sizeof buf, MSG_DONTWAIT, (const struct sockaddr *)&a->cfg.witness.ss,
             a->cfg.witness.len) != (ssize_t)sizeof buf)
    a->wtx_err++;
}

int skew_ok(agent *a, const lsa_msg *m) {
  if (!a->cfg.max_clock_skew_ms) return 1;
  int64_t d = (int64_t)m->wall_ms - wall_ms();
  if (d < 0) d = -d;
  return d <= a->cfg.max_clock_skew_ms;
}

/* Reads every pending datagram of one socket; which = 0/1 peer path, 2 witness client,
 * 3 witness server. */
void drain(agent *a, int which, int64_t now) {
  static const char *const where[4] = {"crossover", "public", "witness", "witness-serve"};
  int fd = which < 2 ? a->pfd[which] : which == 2 ? a->wfd : a->sfd;
  for (int budget = 256; budget > 0; budget--) {
    uint8_t buf[LSA_MSG_LEN + 1];
    struct sockaddr_storage src;
    socklen_t sl = sizeof src;
    ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&src, &sl);
    if (r < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN, or an ICMP error reported on the socket */
    }
    if (which < 2 && !lsa_addr_same_ip(&src, a->ppeer[which])) {
      reject(a, REJ_WRONG_SOURCE, where[which], now);
      continue;
    }
    if (which == 2 && !lsa_addr_same_ip(&src, &a->cfg.witness)) {
      reject(a, REJ_WRONG_SOURCE, where[which], now);
      continue;
    }
    lsa_msg m;
    enum lsa_verdict v = lsa_decode(buf, (size_t)r, a->cfg.cluster, &a->key, &m);
    if (v != LSA_OK) {
      reject(a, v, where[which], now);
      continue;
    }
    if (which < 2) {
      uint8_t want_path = which == 0 ? LSA_PATH_CROSSOVER : LSA_PATH_PUBLIC;
      uint8_t peer_role = a->cfg.role == LSA_ROLE_PRIMARY ? LSA_ROLE_SECONDARY : LSA_ROLE_PRIMARY;
      if (m.type != LSA_T_HEARTBEAT || m.path != want_path || m.role != peer_role) {
        reject(a, LSA_E_UNEXPECTED, where[which], now);
        continue;
      }
      if (!skew_ok(a, &m)) { reject(a, REJ_SKEW, where[which], now); continue; }
      int rv = lsa_replay_check(&a->replay[which], m.seq);
      if (rv == LSA_RP_SEEN) {
        reject(a, LSA_E_REPLAY, where[which], now);
        continue;
      }
      if (rv == LSA_RP_UNKNOWN) {
        /* a new run of the peer (or an old replay): believe it only if it echoes one of
         * our recent seqs; until then echo its seq so it can prove itself next time (but
         * not while the current run is being heard: replays must not disturb the echo) */
        if (a->in.heard[which] < 0 || now - a->in.heard[which] >= a->cfg.timeout_ms)
          a->echo_out[which] = m.seq;
        if (!lsa_echo_fresh(m.echo, seq_recent_floor(a, now), a->seq)) {
          reject(a, REJ_UNPROVEN, where[which], now);
          continue;
        }
        lsa_replay_reset(&a->replay[which], m.seq);
        logf_(a, "%s: the peer's run is confirmed (seq %llu echoes ours)", where[which],
              (unsigned long long)m.seq);
      }
      a->echo_out[which] = a->replay[which].highest;
      a->in.heard[which] = now;
      a->in.peer_solo = (m.flags & LSA_FLAG_SOLO) != 0;
      a->hears_us[which] = m.age_ms;
      a->peer_state[which] = m.state < LSA_K_COUNT ? m.state : 0;
      a->rx[which]++;
    } else if (which == 2) {
      if (m.type != LSA_T_PONG || m.role != LSA_ROLE_WITNESS || m.path != LSA_PATH_WITNESS) {
        reject(a, LSA_E_UNEXPECTED, where[which], now);
        continue;
      }
      int found = -1;
      for (int i = 0; i < MAX_PINGS; i++)
        if (a->ping[i].seq && a->ping[i].seq == m.echo) found = i;
      if (found < 0 || !skew_ok(a, &m)) { /* each ping is answered once: replays miss */
        reject(a, found < 0 ? LSA_E_REPLAY : REJ_SKEW, where[which], now);
        continue;
      }
      a->witness_echo = m.seq;
      int64_t sent = a->ping[found].sent;
      a->ping[found].seq = 0; /* each ping is answered once */
      if (sent >= a->in.witness_ok_sent || a->in.witness_ok_at < 0) {
        a->in.witness_ok_at = now;
        a->in.witness_ok_sent = sent;
        a->in.witness_peer_age = m.age_ms;
      }
      a->witness_rtt_ms = (double)(mono_us() - sent * 1000) / 1000.0;
      a->wrx++;
    } else {
      if (m.type != LSA_T_PING || m.path != LSA_PATH_WITNESS ||
          (m.role != LSA_ROLE_PRIMARY && m.role != LSA_ROLE_SECONDARY)) {
        reject(a, LSA_E_UNEXPECTED, where[which], now);
        continue;
      }
      if (!skew_ok(a, &m)) { reject(a, REJ_SKEW, where[which], now); continue; }
      int rv = lsa_replay_check(&a->role_replay[m.role], m.seq);
      if (rv == LSA_RP_SEEN) {
        reject(a, LSA_E_REPLAY, where[which], now);
        continue;
      }
      int live = rv == LSA_RP_FRESH;
      if (rv == LSA_RP_UNKNOWN) {
        if (lsa_echo_fresh(m.echo, seq_recent_floor(a, now), a->seq)) {
          lsa_replay_reset(&a->role_replay[m.role], m.seq);
          live = 1;
        } else {
          reject(a, REJ_UNPROVEN, where[which], now); /* answered, not counted as alive */
        }
      }
      if (live) a->role_heard[m.role] = now;
      int other = m.role == LSA_ROLE_PRIMARY ? LSA_ROLE_SECONDARY : LSA_ROLE_PRIMARY;
      lsa_msg p;
      uint8_t out[LSA_MSG_LEN];
      fill_msg(a, &p, LSA_T_PONG, LSA_PATH_WITNESS);
      p.echo = m.seq;
      int64_t h = a->role_heard[other];
      p.age_ms = h < 0 ? LSA_AGE_NEVER : (uint32_t)(now - h > 0xFFFFFFFE ? 0xFFFFFFFE : now - h);
      lsa_encode(&p, &a->key, out);
      if (sendto(a->sfd, out, sizeof out, MSG_DONTWAIT, (struct sockaddr *)&src, sl) ==
          (ssize_t)sizeof out)
        a->served++;
    }
  }
}

