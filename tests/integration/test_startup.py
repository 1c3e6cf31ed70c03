# SPDX-License-Identifier: MIT
"""Start-up and the node's own files: every start-up failure that can be
provoked exits with the status the EXIT STATUS table gives (the same table
in --help and docs/node.md) and one line on stderr, and none crashes; a
clean start and stop; SIGHUP reopens the log files and never stops the
node; the security log stays bounded under a flood; and the program make
install installs has no test hook.

`make check` runs the tests named test_startup_* again with the
AddressSanitizer build (BUILD=build/san, leaks detected), so the start and
stop paths, failed or not, run under ASan too."""
import calendar
import fcntl
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from cluster import (BUILD, NODE, NODE_TEST, free_ports, metric, request,
                     wait_for)

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAN = "/san" in os.path.abspath(BUILD)
# Raft's timeouts under sanitizers (--help: about 3000 there).
TIMING = (["--election-timeout-ms", "3000", "--heartbeat-timeout-ms", "300"]
          if SAN else [])
# Signs of a crash or of a sanitizer's report on stderr.
CRASH = ("Segmentation", "AddressSanitizer", "LeakSanitizer",
         "runtime error", "Aborted", "core dumped")


def exit_table():
    """EXIT STATUS of --help: code -> its text (continuation lines joined),
    and the section's lines as printed."""
    out = subprocess.run([NODE, "--help"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"\nEXIT STATUS\n(.*?)\n\n", out, re.S)
    assert m, "no EXIT STATUS section in --help"
    lines = m.group(1).split("\n")
    rows, code = {}, None
    for line in lines:
        hit = re.match(r"    (\d)   (.*)", line)
        if hit:
            code = int(hit.group(1))
            rows[code] = hit.group(2)
        elif code is not None and line.startswith("        "):
            rows[code] += " " + line.strip()
        else:
            code = None
    return rows, lines


def base_args(d, ports, extra=(), level="warn"):
    return ["--id", "1", "--data-dir", d, "--peer",
            "127.0.0.1:%d" % ports[0], "--client", "127.0.0.1:%d" % ports[1],
            "--log-level", level] + TIMING + list(extra)


def founder_args(d, ports, token_file, extra=(), level="warn"):
    return base_args(d, ports, ["--cluster", "1=127.0.0.1:%d" % ports[0],
                                "--initial-cluster-state", "new",
                                "--admin-token-file", token_file]
                     + list(extra), level)


class At:
    """What cluster.metric needs of a node: req() against `url`."""

    def __init__(self, url):
        self.url = url

    def req(self, method, path, **kw):
        return request(self.url, method, path, **kw)


def run_node(args, program=None, env=None, timeout=60, prefix=()):
    """Run the node to its exit: (status, stderr)."""
    p = subprocess.run(list(prefix) + [program or NODE] + args,
                       capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stderr


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def test_startup_failures(c):
    """Each start-up failure we can provoke: the exit status, one line on
    stderr naming the cause, no crash; and the EXIT STATUS table lists the
    cause under that status."""
    rows, _ = exit_table()
    d = c.dir
    ports = free_ports(2)
    tok = "pct_" + "a" * 43 + "\n"
    cases = []  # (name, argv, code, message, the table's words, prefix)

    def case(name, args, code, message, table, prefix=()):
        cases.append((name, args, code, message, table, prefix))

    # The data dir.
    held = os.path.join(d, "held")
    os.makedirs(held)
    lock = open(os.path.join(held, "LOCK"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    case("held", base_args(held, ports), 1,
         "data dir '%s' is in use by another process" % held,
         "another process holds it")
    case("missing", base_args(os.path.join(d, "no", "such", "dir"), ports),
         1, "create data dir '%s': No such file or directory"
         % os.path.join(d, "no", "such", "dir"), "cannot be created")
    write(os.path.join(d, "afile"), "x")
    case("not a directory", base_args(os.path.join(d, "afile"), ports), 1,
         "data dir '%s' is not a directory" % os.path.join(d, "afile"),
         "is not a directory")
    # Unwritable: a directory of root's that an unprivileged user cannot
    # write (as root, run the node as nobody; it gets its own copy of the
    # program, since the checkout may be closed to others).
    ro = os.path.join(d, "ro")
    os.makedirs(os.path.join(ro, "exists"))
    prog, prefix = NODE, ()
    if os.geteuid() == 0:
        os.chmod(d, 0o755)
        prog = os.path.join(ro, "provcat-node")
        shutil.copy(NODE, prog)
        prefix = ("setpriv", "--reuid=65534", "--regid=65534",
                  "--clear-groups")
    for p in (ro, os.path.join(ro, "exists")):
        os.chmod(p, 0o555)
    case("unwritable parent", base_args(os.path.join(ro, "new"), ports), 1,
         "create data dir '%s': Permission denied" % os.path.join(ro, "new"),
         "cannot be created", prefix)
    case("unwritable", base_args(os.path.join(ro, "exists"), ports), 1,
         "open '%s/LOCK': Permission denied" % os.path.join(ro, "exists"),
         "opened or written", prefix)
    # The admin token file.
    bad = [("empty", "", "admin token file '%s' is empty", "is empty"),
           ("short", "pct_short\n",
            "admin token in '%s' is too short (16 bytes at least)",
            "16 to 256"),
           ("bad character", "pct_" + "a" * 20 + " b\n",
            "admin token in '%s' has a character a token cannot have at "
            "byte 24", "token characters"),
           ("two lines", tok + tok, "admin token file '%s' holds more than "
            "one line", "not one line"),
           ("nul byte", "pct_" + "a" * 20 + "\0b\n",
            "admin token in '%s' has a character a token cannot have at "
            "byte 24", "token characters"),
           ("too long", "pct_" + "a" * 300 + "\n",
            "admin token in '%s' is too long (256 bytes at most)",
            "16 to 256")]
    for name, text, message, table in bad:
        f = write(os.path.join(d, name.replace(" ", "-") + ".token"), text)
        case("token " + name, founder_args(os.path.join(d, "t"), ports, f),
             2, message % f, table)
    f = write(os.path.join(d, "world.token"), tok, 0o644)
    case("token world-readable", founder_args(os.path.join(d, "t"), ports, f),
         2, "admin token file '%s' can be read or written by any user (mode "
         "0644): make it private, e.g. chmod 600 '%s'" % (f, f),
         "any user can read it")
    case("token a directory",
         founder_args(os.path.join(d, "t"), ports, held), 2,
         "admin token file '%s' is not a regular file" % held,
         "cannot be read")
    case("token cannot be created",
         founder_args(os.path.join(d, "t"), ports,
                      os.path.join(d, "nodir", "admin.token")), 2,
         "create admin token file '%s': No such file or directory"
         % os.path.join(d, "nodir", "admin.token"), "cannot be read or "
         "created")
    case("new without a token",
         base_args(os.path.join(d, "t"), ports,
                   ["--cluster", "1=127.0.0.1:%d" % ports[0],
                    "--initial-cluster-state", "new"]), 2,
         "--initial-cluster-state new needs --admin-token-file",
         "--initial-cluster-state new without --admin-token-file")
    # Usage.
    case("bad --cluster", base_args(os.path.join(d, "t"), ports,
                                    ["--cluster", "1=x"]), 2,
         "--cluster: \"x\" has no port (expected host:port)",
         "a bad --cluster")
    case("unknown flag", base_args(os.path.join(d, "t"), ports,
                                   ["--no-such-flag"]), 2,
         "unknown flag \"--no-such-flag\" (see --help)", "an unknown flag")
    args = base_args(os.path.join(d, "t"), ports)
    case("missing --id", args[2:], 2, "--id is required", "a bad or missing "
         "value")
    conf = write(os.path.join(d, "node.conf"), "id = 1\nno-such-key = 2\n")
    case("config file", base_args(os.path.join(d, "t"), ports,
                                  ["--config", conf]), 2,
         "%s:2: unknown key" % conf, "an error in the --config file")
    hol = write(os.path.join(d, "holidays.json"), "{\"2027\": [}\n")
    case("holidays", base_args(os.path.join(d, "t"), ports,
                               ["--holidays", hol]), 2,
         "--holidays '%s'" % hol, "a bad --holidays file")
    # Ports: busy, and not this machine's (TEST-NET-1).
    hold = [socket.socket(), socket.socket()]
    busy = free_ports(2)
    for s, p in zip(hold, busy):
        s.bind(("127.0.0.1", p))
        s.listen(1)
    case("busy client port",
         base_args(os.path.join(d, "p1"), [ports[0], busy[1]]), 1,
         "listen on 127.0.0.1:%d: address already in use" % busy[1],
         "--client or --peer cannot be listened on")
    case("busy peer port",
         base_args(os.path.join(d, "p2"), [busy[0], ports[1]]), 1,
         "raft start: listen on 127.0.0.1:%d: address already in use"
         % busy[0], "--client or --peer cannot be listened on")
    args = base_args(os.path.join(d, "p3"), ports)
    args[args.index("--client") + 1] = "192.0.2.1:%d" % ports[1]
    case("client address not ours", args + ["--advertise-client-url",
                                            "http://127.0.0.1:1"], 1,
         "listen on 192.0.2.1:%d: address not available" % ports[1],
         "not an address of this machine")
    # --restore.
    garbage = write(os.path.join(d, "garbage.snap"), "not a backup\n")
    case("corrupt backup", base_args(os.path.join(d, "r1"), ports,
                                     ["--restore", garbage]), 2,
         "restore: backup '%s': snapshot: truncated header" % garbage,
         "the backup is missing or damaged")
    case("missing backup", base_args(os.path.join(d, "r2"), ports,
                                     ["--restore", garbage + ".gone"]), 2,
         "restore: backup '%s.gone' does not exist" % garbage,
         "the backup is missing or damaged")
    full = os.path.join(d, "r3")
    os.makedirs(full)
    write(os.path.join(full, "something"), "x")
    case("restore into a non-empty dir",
         base_args(full, ports, ["--restore", garbage]), 2,
         "restore: data dir '%s' is not empty and was not restored from a "
         "backup" % full, "not empty and was not restored")
    # --log-file.
    case("log file", base_args(os.path.join(d, "l"), ports,
                               ["--log-file", os.path.join(d, "no", "log")]),
         1, "--log-file '%s': No such file or directory"
         % os.path.join(d, "no", "log"), "--log-file")

    try:
        for name, args, code, message, table, pre in cases:
            got, err = run_node(args, prog if pre else NODE, prefix=pre)
            for sign in CRASH:
                assert sign not in err, (name, err)
            assert got == code, (name, got, code, err)
            lines = err.splitlines()
            assert len(lines) == 1, (name, err)
            assert lines[0].startswith("provcat-node: " + message), \
                (name, lines[0], message)
            assert table in rows[code], (name, table, rows[code])
        # With --log-file the line is in the file and on the first stderr.
        log = os.path.join(d, "node.log")
        got, err = run_node(base_args(held, ports, ["--log-file", log]))
        line = "provcat-node: data dir '%s' is in use by another process\n" \
            % held
        assert (got, err) == (1, line), (got, err)
        with open(log) as f:
            assert f.read() == line
    finally:
        lock.close()
        for s in hold:
            s.close()
        for p in (ro, os.path.join(ro, "exists")):
            os.chmod(p, 0o755)


def test_startup_other_cluster_and_damaged_files(c):
    """A data dir whose cluster-id names another cluster than its log exits
    2; one whose raft files are damaged exits 1 naming them. Neither
    crashes."""
    rows, _ = exit_table()
    d = os.path.join(c.dir, "n")
    tok = write(os.path.join(c.dir, "admin.token"), "pct_" + "b" * 43 + "\n")
    ports = free_ports(2)
    url = "http://127.0.0.1:%d" % ports[1]
    args = founder_args(d, ports, tok)
    p = subprocess.Popen([NODE] + args, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: request(url, path="/readyz").status == 200, 30,
                 "a ready node")
        wait_for(lambda: os.path.exists(os.path.join(d, "cluster-id")), 10,
                 "cluster-id")
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    with open(os.path.join(d, "cluster-id")) as f:
        cid = f.read().strip()
    write(os.path.join(d, "cluster-id"), "0" * 32 + "\n")
    code, err = run_node(args)
    assert code == 2, (code, err)
    for sign in CRASH:
        assert sign not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("provcat-node: ") and \
        ("data dir '%s' belongs to cluster %s (its cluster-id) but its log is "
         "of cluster %s" % (d, "0" * 32, cid)) in lines[0], err
    assert "belongs to another cluster" in rows[2]

    # Damage the raft metadata and every segment: raft refuses to load.
    write(os.path.join(d, "cluster-id"), cid + "\n")
    raft = os.path.join(d, "raft")
    damaged = 0
    for path in glob.glob(os.path.join(raft, "*")):
        name = os.path.basename(path)
        if name.startswith("metadata") or "-" in name:
            with open(path, "r+b") as f:
                f.seek(0)
                f.write(b"\xff" * 16)
            damaged += 1
    assert damaged > 0
    code, err = run_node(args)
    for sign in CRASH:
        assert sign not in err, err
    assert code == 1, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("provcat-node: raft "), err
    assert "fail their checksums" in rows[1]


def start_node(c, extra=(), env=None, program=None):
    """A one-node cluster with the log in a file; (process, url, data dir,
    log file)."""
    d = os.path.join(c.dir, "node")
    tok = os.path.join(c.dir, "admin.token")
    log = os.path.join(c.dir, "node.log")
    ports = free_ports(2)
    url = "http://127.0.0.1:%d" % ports[1]
    args = founder_args(d, ports, tok, ["--log-file", log] + list(extra),
                        "info")
    p = subprocess.Popen([program or NODE] + args, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ, **(env or {})))
    return p, url, d, log, tok


def stop(p):
    """SIGTERM; the exit status and what the node said on stderr."""
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    return p.returncode, err


def test_startup_clean_stop_and_sighup(c):
    """A node starts, takes SIGHUP during start-up and while serving (it
    reopens --log-file and the security log: after they were moved away,
    new lines go to new files), keeps serving, and stops on SIGTERM with
    status 0 and nothing on stderr (no sanitizer report under ASan)."""
    p, url, d, log, tok = start_node(c)
    try:
        wait_for(lambda: os.path.exists(log) and os.path.getsize(log) > 0, 30,
                 "the first log line")
        p.send_signal(signal.SIGHUP)  # during start-up: ignored or reopens
        wait_for(lambda: request(url, path="/readyz").status == 200, 30,
                 "a ready node")
        with open(tok) as f:
            token = f.read().strip()
        assert request(url, path="/v1/whoami", token="pct_wrong").status == 401
        seclog = os.path.join(d, "security.log")
        wait_for(lambda: os.path.getsize(seclog) > 0, 5, "a security line")
        os.rename(log, log + ".old")
        os.rename(seclog, seclog + ".old")
        for _ in range(3):
            p.send_signal(signal.SIGHUP)

        def reopened():
            if not os.path.exists(log):
                return False
            with open(log) as f:
                return "SIGHUP: log files opened again" in f.read()
        wait_for(reopened, 10, "a new log file, with the SIGHUP's line")
        assert request(url, path="/v1/whoami", token="pct_wrong2").status == 401
        wait_for(lambda: os.path.exists(seclog), 5, "a new security.log")
        with open(seclog) as f:
            lines = [json.loads(x) for x in f]
        assert [x["kind"] for x in lines] == ["auth_failure"], lines
        with open(seclog + ".old") as f:
            assert len(f.readlines()) == 1
        r = request(url, path="/v1/whoami", token=token)
        assert r.status == 200 and r.json["id"] == "admin", r
        assert p.poll() is None
    finally:
        code, err = stop(p)
    assert code == 0, (code, err)
    assert err == "", err
    with open(log) as f:
        text = f.read()
    assert "signal 15: shutting down" in text, text


def flood(url, addresses, per_address, token="pct_not-a-token"):
    """`per_address` requests with a bad token from each of `addresses`
    (127.0.0.x sources), over one connection each; the statuses seen."""
    host, port = url.replace("http://", "").split(":")
    seen = {}
    for a in addresses:
        conn = http.client.HTTPConnection(host, int(port), timeout=10,
                                          source_address=(a, 0))
        for _ in range(per_address):
            conn.request("GET", "/v1/whoami",
                         headers={"Authorization": "Bearer " + token})
            r = conn.getresponse()
            r.read()
            seen[r.status] = seen.get(r.status, 0) + 1
        conn.close()
    return seen


def test_startup_security_log_flood(c):
    """A flood of failed authentications from 600 addresses: each address
    adds at most --security-log-rate lines (the rest counted in /metrics
    and summed up in a log_suppressed line, written at the latest when the
    node stops), and the files stay within (keep + 1) x
    --security-log-max-bytes, rotated as security.log.1, .2."""
    max_bytes, keep, rate, per = 64 * 1024, 2, 5, 7
    addrs = ["127.0.%d.%d" % (1 + i // 200, 1 + i % 200) for i in range(600)]
    p, url, d, log, _ = start_node(
        c, ["--security-log-max-bytes", "64K", "--security-log-keep",
            str(keep), "--security-log-rate", str(rate)])
    try:
        wait_for(lambda: request(url, path="/readyz").status == 200, 30,
                 "a ready node")
        t0 = time.time()
        seen = flood(url, addrs, per)
        took = time.time() - t0
        assert seen == {401: len(addrs) * per}, seen
        node = At(url)
        assert metric(node, "provcat_security_log_suppressed_total") == \
            len(addrs) * (per - rate)
        # Plus the summaries of minutes that ended while the flood went on.
        lines = metric(node, "provcat_security_log_lines_total")
        assert len(addrs) * rate <= lines <= len(addrs) * (rate + 1), lines
        assert metric(node, "provcat_security_log_rotations_total") >= 3
        assert metric(node, "provcat_security_log_errors_total") == 0
        assert metric(node, "provcat_auth_failures_total") == len(addrs) * per
    finally:
        code, err = stop(p)
    assert code == 0, (code, err)
    files = sorted(glob.glob(os.path.join(d, "security.log*")))
    names = [os.path.basename(x) for x in files]
    assert names == ["security.log", "security.log.1", "security.log.2"], names
    sizes = [os.path.getsize(x) for x in files]
    assert all(s <= max_bytes for s in sizes), sizes
    assert sum(sizes) <= (keep + 1) * max_bytes
    by_addr, summaries = {}, {}
    for path in files:
        with open(path) as f:
            for line in f:
                x = json.loads(line)
                # The fields in this order; principal and route only
                # when known (a failed login has a route, no principal).
                assert list(x)[:5] == ["at", "node", "kind", "client",
                                       "detail"], x
                assert set(list(x)[5:]) <= {"principal", "route"}, x
                if x["kind"] == "log_suppressed":
                    summaries[x["client"]] = x["detail"]
                else:
                    assert x["kind"] == "auth_failure", x
                    by_addr[x["client"]] = by_addr.get(x["client"], 0) + 1
    # The oldest lines were rotated away; no address has more than `rate`.
    assert by_addr and max(by_addr.values()) <= rate, by_addr
    assert addrs[-1] in summaries, sorted(summaries)[:5]
    assert summaries[addrs[-1]].startswith("%d more events" % (per - rate))
    print("  flood: %d requests from %d addresses in %.1f s; security logs "
          "%s bytes" % (len(addrs) * per, len(addrs), took, sizes))


def test_hooks_absent_from_installed_node(c):
    """The provcat-node make install installs has no test hook: no hook's
    symbol or variable name in it, and the variables change nothing (its
    clock, its disk), while provcat-node-test, given the same, shows their
    effect."""
    dest = os.path.join(c.dir, "dest")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env["BUILD"] = BUILD
    r = subprocess.run(["make", "--no-print-directory", "-s", "install",
                        "DESTDIR=" + dest, "PREFIX=/usr"], cwd=TOP, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    installed = dest + "/usr/bin/provcat-node"
    assert sorted(os.listdir(dest + "/usr/bin")).count("provcat-node-test") \
        == 0
    syms = subprocess.run(["nm", installed], capture_output=True, text=True,
                          check=True).stdout
    for word in ("test_hook", "pc_alloc_fault", "pc_alloc_count"):
        assert word not in syms, word
    with open(installed, "rb") as f:
        assert b"PROVCAT_TEST_" not in f.read()
    with open(NODE_TEST, "rb") as f:
        assert b"PROVCAT_TEST_CLOCK_OFFSET_MS" in f.read()

    free = os.path.join(c.dir, "free")
    hooks = {"PROVCAT_TEST_CLOCK_OFFSET_MS": str(-2 * 3600 * 1000),
             "PROVCAT_TEST_DISK_FREE_FILE": free,
             "PROVCAT_TEST_CATCH_UP_BASE_MS": "1"}
    for program, hooked in ((installed, False), (NODE_TEST, True)):
        shutil.rmtree(os.path.join(c.dir, "node"), ignore_errors=True)
        write(free, "%d\n" % (1 << 40))  # room, until genesis is done
        p, url, _, _, tok = start_node(c, env=hooks, program=program)
        try:
            wait_for(lambda: request(url, path="/readyz").status == 200, 30,
                     "a ready node")
            with open(tok) as f:
                token = f.read().strip()
            write(free, "0\n")
            time.sleep(1.5)  # the watch measures the disk every second
            full = metric(At(url), "provcat_disk_full")
            r = request(url, "POST", "/v1/orgs", token=token,
                        body={"id": "o1", "name": "O", "level": "province",
                              "kind": "agency", "parent": "authority"})
            stamp = request(url, path="/v1/whoami",
                            token=token).headers["x-provcat-time"]
            behind = time.time() - calendar.timegm(
                time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        finally:
            code, err = stop(p)
        assert code == 0, (program, code, err)
        if hooked:
            assert full == 1 and r.status == 507, (full, r)
            assert 7000 < behind < 7400, stamp
        else:
            assert full == 0 and r.status == 201, (full, r)
            assert abs(behind) < 60, stamp
    tok_file = os.path.join(c.dir, "admin.token")
    assert os.stat(tok_file).st_mode & 0o777 == 0o600


def test_startup_exit_table_in_docs(c):
    """docs/node.md shows --help's EXIT STATUS table as it is printed."""
    _, lines = exit_table()
    with open(os.path.join(TOP, "docs", "node.md")) as f:
        doc = f.read()
    m = re.search(r"\n## Exit status\n.*?\n```\n(.*?)\n```\n", doc, re.S)
    assert m, "no table under '## Exit status' in docs/node.md"
    assert m.group(1).split("\n") == [x[4:] for x in lines], \
        "docs/node.md and --help disagree on EXIT STATUS"


TESTS = [
    (test_startup_failures, {"n": 0, "start": False}),
    (test_startup_other_cluster_and_damaged_files, {"n": 0, "start": False}),
    (test_startup_clean_stop_and_sighup, {"n": 0, "start": False}),
    (test_startup_security_log_flood, {"n": 0, "start": False}),
    (test_startup_exit_table_in_docs, {"n": 0, "start": False}),
    (test_hooks_absent_from_installed_node, {"n": 0, "start": False}),
]
