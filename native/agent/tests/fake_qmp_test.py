#!/usr/bin/env python3
"""colo-failover against a fake QEMU monitor (QMP over unix sockets), run by `make test`.

Each scenario starts a fake QMP server on a main socket (and, for the primary, an OOB one),
runs the real colo-failover binary against it, and checks its exit code, the exact sequence
of commands it sent (the app's proven sequences: src-main/lockstep/lockstep-service.ts,
failoverOnSecondary and continueAlone), and what it logged. Exit status 1 if any check fails.

    python3 tests/fake_qmp_test.py build/colo-failover
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

GREETING = {"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}

# The app's sequences (lockstep-service.ts). Queries of the COLO mode are collapsed into one entry.
SECONDARY_SEQ = [
    ("qmp_capabilities", None),
    ("nbd-server-stop", None),
    ("x-colo-lost-heartbeat", None),
    ("query-colo-status", None),
    ("object-del", {"id": "f2"}),
    ("object-del", {"id": "f1"}),
    ("chardev-remove", {"id": "red1"}),
    ("chardev-remove", {"id": "red0"}),
    ("announce-self", {"initial": 0, "max": 500, "rounds": 5, "step": 100}),
]


def primary_seq(repl="replication0"):
    return [
        ("qmp_capabilities", None),
        ("x-blockdev-change", {"parent": "colo-disk0", "child": "children.1"}),
        ("blockdev-del", {"node-name": repl}),
        ("object-del", {"id": "m0"}),
        ("object-del", {"id": "redire0"}),
        ("object-del", {"id": "redire1"}),
        ("object-del", {"id": "comp0"}),
        ("object-del", {"id": "iothread1"}),
        ("x-colo-lost-heartbeat", None),
        ("query-colo-status", None),
    ]


def oob_seq(nbd="nbd0"):
    return [
        ("qmp_capabilities", {"enable": ["oob"]}, False),
        ("yank", {"instances": [{"type": "block-node", "node-name": nbd}]}, True),
        ("yank", {"instances": [{"type": "chardev", "id": "mirror0"}]}, True),
        ("yank", {"instances": [{"type": "chardev", "id": "compare1"}]}, True),
        ("yank", {"instances": [{"type": "migration"}]}, True),
    ]


class FakeQemu:
    """One QMP monitor socket. `behave(cmd, args)` returns a reply dict ({"return": ...} or
    {"error": ...}), or None for silence; the monitor keeps COLO state like QEMU does."""

    def __init__(self, path, mode="secondary", none_after=2, refuse=(), greet=True, noise=False,
                 close_after=None, never_none=False, split=False):
        self.path, self.mode, self.none_after = path, mode, none_after
        self.refuse, self.greet, self.noise = set(refuse), greet, noise
        self.close_after, self.never_none, self.split = close_after, never_none, split
        self.log = []  # (command, arguments or None, oob?)
        self.lost = False
        self.queries_after_lost = 0
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)
        self.stop = False
        self.conns = []
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def send(self, c, obj, raw=None):
        data = (raw if raw is not None else json.dumps(obj)) + "\r\n"
        if self.split and len(data) > 4:  # one message in two writes
            c.sendall(data[:3].encode())
            time.sleep(0.005)
            c.sendall(data[3:].encode())
        else:
            c.sendall(data.encode())

    def reply_for(self, cmd, args):
        if cmd in self.refuse:
            return {"error": {"class": "GenericError", "desc": "refused by the fake for %s" % cmd}}
        if cmd == "x-colo-lost-heartbeat":
            self.lost = True
            return {"return": {}}
        if cmd == "query-colo-status":
            mode = self.mode
            if self.lost and not self.never_none:
                self.queries_after_lost += 1
                if self.queries_after_lost > self.none_after:
                    mode = "none"
            return {"return": {"mode": mode, "last-mode": "none", "reason": "none"}}
        if cmd == "query-yank":
            return {"return": [{"type": "block-node", "node-name": "nbd7"}, {"type": "migration"}]}
        # a string that contains "error" must not make a success look like a failure
        return {"return": {"note": "\"error\": not really"}} if cmd == "object-del" else {"return": {}}

    def serve(self):
        self.srv.settimeout(0.1)
        while not self.stop:
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns.append(c)
            try:
                self.session(c)
            except OSError:
                pass
            finally:
                c.close()

    def session(self, c):
        if not self.greet:
            while not self.stop:  # accepts, says nothing
                time.sleep(0.05)
            return
        self.send(c, GREETING)
        buf = b""
        c.settimeout(0.1)
        handled = 0
        while not self.stop:
            try:
                d = c.recv(65536)
            except socket.timeout:
                continue
            if not d:
                return
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                msg = json.loads(line)
                oob = "exec-oob" in msg
                cmd = msg.get("exec-oob") or msg.get("execute")
                args = msg.get("arguments")
                self.log.append((cmd, args, oob))
                if self.close_after is not None and handled >= self.close_after:
                    return  # QEMU went away
                handled += 1
                rep = self.reply_for(cmd, args)
                if self.noise:
                    self.send(c, {"event": "COLO_EXIT", "data": {"mode": "secondary", "reason": "error"}, "timestamp": {"seconds": 1, "microseconds": 2}})
                    self.send(c, None, raw="this is not json {")
                    self.send(c, {"return": {"mode": "none"}, "id": 9999})  # a stale reply to another id
                    self.send(c, {"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 3}})
                if rep is not None:
                    if "id" in msg:
                        rep["id"] = msg["id"]
                    self.send(c, rep)

    def close(self):
        self.stop = True
        self.srv.close()
        self.t.join(timeout=2)


FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
        print("  FAIL: " + what)


def collapse(log):
    """(cmd, args) with consecutive query-colo-status collapsed, without the oob flag."""
    out = []
    for cmd, args, _ in log:
        if cmd == "query-colo-status" and out and out[-1][0] == cmd:
            continue
        out.append((cmd, None if cmd == "query-colo-status" else args))
    return out


def run(binary, args, timeout=20):
    t0 = time.monotonic()
    p = subprocess.run([binary] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, (time.monotonic() - t0) * 1000


def scenario(name):
    print("scenario: " + name)


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/colo-failover")
    d = tempfile.mkdtemp(prefix="lsa-qmp-")
    n = [0]

    def sock():
        n[0] += 1
        return os.path.join(d, "m%d.sock" % n[0])

    # 1. secondary, the happy path: the app's exact sequence, exit 0
    scenario("secondary takes over")
    q = FakeQemu(sock(), mode="secondary")
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path])
    q.close()
    check(rc == 0, "secondary: exit 0 (got %d): %s" % (rc, err[-400:]))
    check(collapse(q.log) == [(c, a) for c, a in SECONDARY_SEQ], "secondary: sequence %s" % collapse(q.log))
    check(not any(o for _, _, o in q.log), "secondary: nothing sent out of band")
    check(sum(1 for c, _, _ in q.log if c == "query-colo-status") == 3, "secondary: polled the mode until none (3 polls)")
    check("done: the secondary runs the guest alone" in err, "secondary: logs done")
    check("step 2 x-colo-lost-heartbeat: ok" in err, "secondary: one log line per step")

    # 2. the same with events, garbage, stale replies and split writes in between
    scenario("secondary with noise on the monitor")
    q = FakeQemu(sock(), mode="secondary", noise=True, split=True)
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path])
    q.close()
    check(rc == 0, "noise: exit 0 (got %d): %s" % (rc, err[-400:]))
    check(collapse(q.log) == [(c, a) for c, a in SECONDARY_SEQ], "noise: sequence %s" % collapse(q.log))
    check("event {\"event\": \"COLO_EXIT\"" in err, "noise: COLO_EXIT logged")
    check("skipping a line that is not JSON" in err, "noise: garbage line skipped and logged")

    # 3. x-colo-lost-heartbeat refused: fails, nothing after it
    scenario("secondary: QEMU refuses x-colo-lost-heartbeat")
    q = FakeQemu(sock(), mode="secondary", refuse={"x-colo-lost-heartbeat"})
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path])
    q.close()
    check(rc == 1, "refused: exit 1 (got %d)" % rc)
    check([c for c, _, _ in q.log] == ["qmp_capabilities", "nbd-server-stop", "x-colo-lost-heartbeat"], "refused: stops there %s" % q.log)
    check("refused: GenericError: refused by the fake" in err, "refused: QEMU's reason logged")

    # 4. nbd-server-stop refused: fails before touching COLO (as the app does)
    scenario("secondary: QEMU refuses nbd-server-stop")
    q = FakeQemu(sock(), mode="secondary", refuse={"nbd-server-stop"})
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path])
    q.close()
    check(rc == 1, "nbd refused: exit 1 (got %d)" % rc)
    check("x-colo-lost-heartbeat" not in [c for c, _, _ in q.log], "nbd refused: no lost-heartbeat")

    # 5. the mode never becomes none: fails after --mode-timeout-ms
    scenario("secondary: COLO mode never becomes none")
    q = FakeQemu(sock(), mode="secondary", never_none=True)
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path, "--mode-timeout-ms", "400"])
    q.close()
    check(rc == 1, "stuck: exit 1 (got %d)" % rc)
    check(300 <= ms < 3000, "stuck: gave up after about 400 ms (%.0f ms)" % ms)
    check("still mode 'secondary'" in err, "stuck: says which mode")
    check("announce-self" not in [c for c, _, _ in q.log], "stuck: no announce-self")

    # 6. clean-up refusals are tolerated (filters already gone)
    scenario("secondary: filters already gone")
    q = FakeQemu(sock(), mode="secondary", refuse={"object-del", "chardev-remove"})
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path])
    q.close()
    check(rc == 0, "tolerated: exit 0 (got %d)" % rc)
    check("(tolerated)" in err, "tolerated: logged as tolerated")
    check(q.log[-1][0] == "announce-self", "tolerated: still announces")

    # 7. QEMU goes away in the middle
    scenario("secondary: QEMU closes the monitor after x-colo-lost-heartbeat")
    q = FakeQemu(sock(), mode="secondary", close_after=3)
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path])
    q.close()
    check(rc == 1, "closed: exit 1 (got %d)" % rc)
    check(ms < 6000, "closed: fails promptly (%.0f ms)" % ms)

    # 8. no socket at all
    scenario("no QMP socket")
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", os.path.join(d, "absent.sock")])
    check(rc == 1, "absent: exit 1 (got %d)" % rc)
    check(ms < 1000, "absent: fails at once (%.0f ms)" % ms)
    check("cannot open QMP" in err, "absent: says why")

    # 9. a monitor that accepts but never greets (another client holds it)
    scenario("a monitor that never greets")
    q = FakeQemu(sock(), greet=False)
    rc, _, err, ms = run(binary, ["--side", "secondary", "--qmp", q.path])
    q.close()
    check(rc == 1, "silent: exit 1 (got %d)" % rc)
    check(2500 <= ms < 6000, "silent: gives up after its 3 s deadline (%.0f ms)" % ms)
    check("no QMP greeting" in err, "silent: says why")

    # 10. primary continues alone: OOB yanks first, then the app's sequence
    scenario("primary continues alone")
    oob = FakeQemu(sock(), mode="primary")
    q = FakeQemu(sock(), mode="primary")
    rc, _, err, ms = run(binary, ["--side", "primary", "--qmp", q.path, "--qmp-oob", oob.path])
    oob.close()
    q.close()
    check(rc == 0, "primary: exit 0 (got %d): %s" % (rc, err[-400:]))
    check(oob.log == [tuple(x) for x in oob_seq()], "primary: OOB yanks %s" % oob.log)
    check(collapse(q.log) == primary_seq(), "primary: sequence %s" % collapse(q.log))
    check("done: the primary continues alone" in err, "primary: logs done")

    # 11. a re-protected pair: replication3 / nbd3
    scenario("primary with a later generation's nodes")
    oob = FakeQemu(sock(), mode="primary")
    q = FakeQemu(sock(), mode="primary", noise=True)
    rc, _, err, ms = run(binary, ["--side", "primary", "--qmp", q.path, "--qmp-oob", oob.path, "--repl-node", "replication3"])
    oob.close()
    q.close()
    check(rc == 0, "generation: exit 0 (got %d)" % rc)
    check(oob.log == [tuple(x) for x in oob_seq("nbd3")], "generation: yanks nbd3 %s" % oob.log)
    check(collapse(q.log) == primary_seq("replication3"), "generation: deletes replication3 %s" % collapse(q.log))

    # 12. the NBD node's yank refused: the block nodes QEMU lists are yanked instead
    scenario("primary: NBD yank refused, query-yank fallback")
    oob = FakeQemu(sock(), mode="primary")
    oob.reply_for_orig = oob.reply_for
    oob.reply_for = lambda c, a: ({"error": {"class": "DeviceNotFound", "desc": "no such node"}}
                                  if c == "yank" and a["instances"][0].get("node-name") == "nbd0" else oob.reply_for_orig(c, a))
    q = FakeQemu(sock(), mode="primary")
    rc, _, err, ms = run(binary, ["--side", "primary", "--qmp", q.path, "--qmp-oob", oob.path])
    oob.close()
    q.close()
    check(rc == 0, "fallback: exit 0 (got %d)" % rc)
    check(("query-yank", None, False) in oob.log, "fallback: asked query-yank")
    check(("yank", {"instances": [{"type": "block-node", "node-name": "nbd7"}]}, True) in oob.log, "fallback: yanked the listed node nbd7")

    # 13. no OOB monitor: tolerated, the in-band sequence still runs
    scenario("primary without an OOB monitor")
    q = FakeQemu(sock(), mode="primary")
    rc, _, err, ms = run(binary, ["--side", "primary", "--qmp", q.path, "--qmp-oob", os.path.join(d, "none.sock")])
    q.close()
    check(rc == 0, "no oob: exit 0 (got %d)" % rc)
    check("yank: skipped" in err and "(tolerated)" in err, "no oob: logged as tolerated")
    check(collapse(q.log) == primary_seq(), "no oob: sequence %s" % collapse(q.log))

    # 14. primary: QEMU refuses to leave COLO
    scenario("primary: x-colo-lost-heartbeat refused")
    q = FakeQemu(sock(), mode="primary", refuse={"x-colo-lost-heartbeat"})
    rc, _, err, ms = run(binary, ["--side", "primary", "--qmp", q.path])
    q.close()
    check(rc == 1, "primary refused: exit 1 (got %d)" % rc)
    check("FAILED" in err, "primary refused: logs FAILED")

    # 15. bad arguments never reach QEMU
    scenario("bad arguments")
    for args in (["--side", "both", "--qmp", "x"], ["--side", "primary"], ["--side", "primary", "--qmp", "x", "--repl-node", 'a"b'],
                 ["--side", "primary", "--qmp", "x", "--nbd-node", ""], ["--side", "secondary", "--qmp", "x", "--mode-timeout-ms", "5s"],
                 ["--side", "secondary", "--qmp", "x", "--bogus", "1"], ["--side"]):
        rc, _, err, ms = run(binary, args)
        check(rc == 2, "bad args %s: exit 2 (got %d)" % (args, rc))

    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)
    print("%d checks, %d failed" % (CHECKS[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
