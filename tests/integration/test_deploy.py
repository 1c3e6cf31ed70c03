# SPDX-License-Identifier: MIT
"""Deployment: readiness notices to a service manager, `make install` and
the systemd unit it installs run the way systemd would run it, `make run`
at a terminal (busy ports, a node that fails, Ctrl-C), and the test runners'
time limits."""
import fcntl
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

from cluster import BUILD, NODE, free_ports, request, wait_for
from ptyrun import PtyRun, check_run, port_open

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def notify_socket(path):
    """A datagram socket bound to `path` ('@' for an abstract name), as
    systemd listens for sd_notify."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + path[1:] if path.startswith("@") else path)
    s.settimeout(0.2)
    return s


def notices(s, want, timeout):
    """Datagrams from `s` until `want` arrived; all of them, in order."""
    got = []
    deadline = time.time() + timeout
    while want not in got:
        if time.time() > deadline:
            raise AssertionError("no %r in %ds; got %r" % (want, timeout, got))
        try:
            got.append(s.recv(4096).decode())
        except socket.timeout:
            pass
    return got


def make_env():
    """The environment for a make started by a test: no jobserver of the
    make that runs the tests (its descriptors are not ours)."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    env["BUILD"] = BUILD
    return env


def port_block():
    """A PORT_BASE whose six ports (N+1..N+3, N+11..N+13) are free now."""
    for _ in range(200):
        n = random.randrange(20000, 30000, 20)
        ports = [n + 1, n + 2, n + 3, n + 11, n + 12, n + 13]
        if not any(port_open("127.0.0.1:%d" % p) for p in ports):
            try:
                for p in ports:
                    s = socket.socket()
                    s.bind(("127.0.0.1", p))
                    s.close()
                return n
            except OSError:
                continue
    raise AssertionError("no free block of ports")


def test_notify_ready_then_stopping(c):
    """Each node sends READY=1 once it answers HTTP (to a path and to an
    abstract socket); a stopping leader sends STOPPING=1, exits 0, and the
    others elect a new one."""
    names = {1: os.path.join(c.dir, "notify1"),
             2: os.path.join(c.dir, "notify2"),
             3: "@provcat-it-notify-%d" % os.getpid()}
    socks = {i: notify_socket(p) for i, p in names.items()}
    try:
        c.start_all(env=lambda x: {"NOTIFY_SOCKET": names[x.id]})
        for x in c.nodes:
            assert notices(socks[x.id], "READY=1", 10) == ["READY=1"]
            assert x.req("GET", "/healthz").status == 200
        lead = c.leader()
        lead.proc.send_signal(signal.SIGTERM)
        assert notices(socks[lead.id], "STOPPING=1", 10) == ["STOPPING=1"]
        assert lead.proc.wait(timeout=20) == 0
        others = [x for x in c.nodes if x is not lead]
        wait_for(lambda: any((x.status() or {}).get("state") == "leader"
                             for x in others), 15, "a new leader")
        for x in others:
            x.stop()
            assert notices(socks[x.id], "STOPPING=1", 10) == ["STOPPING=1"]
    finally:
        for s in socks.values():
            s.close()


def unit_service(path):
    """The [Service] settings of a unit file: key -> list of values."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]":
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def test_install_unit_as_systemd_runs_it(c):
    """`make install DESTDIR= PREFIX=/usr` stages the program, its man page,
    the unit and the configuration example; systemd-analyze verifies the
    unit; the installed node, started as the unit says (ExecStart,
    Environment with %d the credentials directory holding the token
    LoadCredential names, NOTIFY_SOCKET for Type=notify) from the example
    configuration (addresses made local), sends READY=1, becomes ready,
    and on SIGTERM sends STOPPING=1 and exits 0."""
    dest = os.path.join(c.dir, "dest")
    r = subprocess.run(["make", "--no-print-directory", "-s", "install",
                        "DESTDIR=" + dest, "PREFIX=/usr"], cwd=TOP,
                       env=make_env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    binary = dest + "/usr/bin/provcat-node"
    unit = dest + "/usr/lib/systemd/system/provcat-node.service"
    man = dest + "/usr/share/man/man1/provcat-node.1"
    example = dest + "/etc/provcat/provcat-node.conf.example"
    for path, mode in ((binary, 0o755), (unit, 0o644), (man, 0o644),
                       (example, 0o644)):
        assert os.stat(path).st_mode & 0o777 == mode, path
    out = subprocess.run([binary, "--version"], capture_output=True,
                         text=True).stdout
    assert out.startswith("provcat-node "), out

    # The man page: troff without a warning, and every flag of --help.
    r = subprocess.run(["groff", "-man", "-Tascii", "-ww", man],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    page = re.sub(r".\x08", "", r.stdout)
    helptext = subprocess.run([binary, "--help"], capture_output=True,
                              text=True).stdout
    flags = set(re.findall(r"^    (--[a-z-]+)", helptext, re.M))
    assert len(flags) >= 25, flags
    for f in flags:
        assert re.search(r"^ {7}%s\b" % re.escape(f), page, re.M), f
    assert "PROVCAT-NODE(1)" in page and "EXIT STATUS" in page

    # The unit as installed: its paths, then systemd's own check of it
    # (with the program's staged path, since nothing is in /usr/bin).
    svc = unit_service(unit)
    assert svc["Type"] == ["notify"]
    exec_start = svc["ExecStart"][0].split()
    assert exec_start == ["/usr/bin/provcat-node", "--config",
                          "/etc/provcat/provcat-node.conf"], exec_start
    cred, cred_src = svc["LoadCredential"][0].split(":", 1)
    assert cred_src == "/etc/provcat/admin.token"
    staged = os.path.join(c.dir, "staged.service")
    with open(unit) as f, open(staged, "w") as g:
        g.write(f.read().replace("=/usr/bin/", "=" + dest + "/usr/bin/"))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", staged],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr

    # The operator's steps (docs/node.md): the token, the configuration.
    etc = dest + "/etc/provcat"
    with open(etc + "/admin.token", "w") as f:
        f.write("pct_" + "k" * 43 + "\n")
    os.chmod(etc + "/admin.token", 0o600)
    peer, client = free_ports(2)
    data = os.path.join(c.dir, "state")
    with open(example) as f:
        conf = f.read()
    conf = re.sub(r"(?m)^data-dir = .*$", "data-dir = " + data, conf)
    conf = re.sub(r"(?m)^peer = .*$", "peer = 127.0.0.1:%d" % peer, conf)
    conf = re.sub(r"(?m)^client = .*$", "client = 127.0.0.1:%d" % client,
                  conf)
    conf = re.sub(r"(?m)^advertise-client-url = .*$",
                  "advertise-client-url = http://127.0.0.1:%d" % client, conf)
    conf = re.sub(r"(?m)^cluster = .*$", "cluster = 1=127.0.0.1:%d" % peer,
                  conf)
    assert "10.0.0." not in conf, conf
    with open(etc + "/provcat-node.conf", "w") as f:
        f.write(conf)

    # What systemd does for it: the credential, the environment, the
    # notify socket, ExecStart; then SIGTERM (KillSignal's default).
    creds = os.path.join(c.dir, "credentials")
    os.makedirs(creds)
    with open(dest + cred_src) as f, open(os.path.join(creds, cred), "w") as g:
        g.write(f.read())
    os.chmod(os.path.join(creds, cred), 0o400)  # systemd's credential mode
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVCAT")}
    for e in svc.get("Environment", []):
        k, v = e.split("=", 1)
        env[k] = v.replace("%d", creds)
    assert env["PROVCAT_ADMIN_TOKEN_FILE"] == creds + "/admin.token"
    env["NOTIFY_SOCKET"] = os.path.join(c.dir, "notify")
    sock = notify_socket(env["NOTIFY_SOCKET"])
    log = open(os.path.join(c.dir, "unit.log"), "wb")
    proc = subprocess.Popen([dest + exec_start[0], exec_start[1],
                             dest + exec_start[2]], env=env, stdout=log,
                            stderr=log)
    try:
        assert notices(sock, "READY=1", 10) == ["READY=1"]
        url = "http://127.0.0.1:%d" % client
        wait_for(lambda: request(url, path="/readyz").status == 200, 15,
                 "readyz of the unit's node")
        r = request(url, path="/v1/whoami",
                    token="pct_" + "k" * 43)
        assert r.status == 200 and r.json["id"] == "admin", r
        st = request(url, path="/v1/status").json
        assert st["id"] == 1 and st["state"] == "leader", st
        assert os.path.exists(os.path.join(data, "cluster-id"))
        proc.send_signal(signal.SIGTERM)
        assert notices(sock, "STOPPING=1", 10) == ["STOPPING=1"]
        assert proc.wait(timeout=int(svc["TimeoutStopSec"][0])) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
        log.close()


def run_make_run(c, run_dir, port_base=None, extra_env=None):
    env = make_env()
    env["RUN_DIR"] = run_dir
    env.pop("PORT_BASE", None)
    if port_base is not None:
        env["PORT_BASE"] = str(port_base)
    env.update(extra_env or {})
    return ["make", "--no-print-directory", "-s", "run"], env


def test_make_run_ctrl_c_exits_0_and_reruns(c):
    """`make run` at a terminal: banner after every node answered, the
    leader ready, Ctrl-C stops every node and make exits 0; a second run
    reuses the data and its ports and adds no demo data again."""
    run_dir = os.path.join(c.dir, "run")
    base = port_block()
    argv, env = run_make_run(c, run_dir, base)
    out, info = check_run(argv, env=env, cwd=TOP, timeout=120)
    assert [n[0] for n in info["nodes"]] == [
        "127.0.0.1:%d" % (base + i) for i in (1, 2, 3)], info
    assert [n[1] for n in info["nodes"]] == [
        "127.0.0.1:%d" % (base + 10 + i) for i in (1, 2, 3)], info
    assert "local-cluster: stopped" in out
    with open(os.path.join(run_dir, "ports")) as f:
        assert f.read() == 'HTTP_PORTS="%d %d %d"\nRAFT_PORTS="%d %d %d"\n' % (
            base + 1, base + 2, base + 3, base + 11, base + 12, base + 13)
    with open(os.path.join(run_dir, "health-clerk.token")) as f:
        clerk = f.read()

    # Again, without PORT_BASE: the recorded ports, the same data.
    argv, env = run_make_run(c, run_dir)
    p = PtyRun(argv, env=env, cwd=TOP)
    try:
        p.expect(rb"Ctrl-C stops all nodes\.", 120)
        url = "http://127.0.0.1:%d" % (base + 1)
        r = request(url, path="/v1/catalog/health-facilities/records"
                    "?consistency=stale")
        assert r.status == 200 and [i["key"] for i in r.json["items"]] == [
            "h-0001", "h-0002", "h-0003"], r
        assert all(i["version"] == 1 for i in r.json["items"]), r
        p.ctrl_c()
        assert p.wait(60) == 0, p.text()
    finally:
        p.close()
    with open(os.path.join(run_dir, "health-clerk.token")) as f:
        assert f.read() == clerk


def test_make_run_busy_port_is_named(c):
    """A busy port of PORT_BASE's block fails make run before any node
    starts, naming the port; a cluster's recorded port busy later fails the
    same way; PORT_BASE cannot move a cluster that exists."""
    run_dir = os.path.join(c.dir, "run")
    base = port_block()
    hold = socket.socket()
    hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hold.bind(("127.0.0.1", base + 12))
    hold.listen(1)
    try:
        argv, env = run_make_run(c, run_dir, base)
        r = subprocess.run(argv, env=env, cwd=TOP, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode != 0
        assert ("local-cluster: port %d (127.0.0.1) is busy (PORT_BASE=%d"
                % (base + 12, base)) in r.stderr, r.stderr
        assert "3 nodes running" not in r.stdout
        assert not os.path.exists(os.path.join(run_dir, "node1"))
    finally:
        hold.close()

    check_run(*run_make_run(c, run_dir, base), cwd=TOP, timeout=120)
    hold = socket.socket()
    hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hold.bind(("127.0.0.1", base + 2))
    hold.listen(1)
    try:
        argv, env = run_make_run(c, run_dir)
        r = subprocess.run(argv, env=env, cwd=TOP, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode != 0
        assert ("port %d (127.0.0.1) is busy, and the cluster in %s uses it"
                % (base + 2, run_dir)) in r.stderr, r.stderr
    finally:
        hold.close()
    other = port_block()
    argv, env = run_make_run(c, run_dir, other)
    r = subprocess.run(argv, env=env, cwd=TOP, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0
    assert "PORT_BASE=%d cannot move it" % other in r.stderr, r.stderr


def test_make_run_failed_node_is_named(c):
    """A node that exits at start (its data dir held by another process:
    exit status 1 and one line, no crash) is named with its error; the
    nodes that started are stopped and no banner is printed."""
    run_dir = os.path.join(c.dir, "run")
    base = port_block()
    node2 = os.path.join(run_dir, "node2")
    os.makedirs(node2)
    lock = open(os.path.join(node2, "LOCK"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        r = subprocess.run([NODE, "--id", "2", "--data-dir", node2, "--peer",
                            "127.0.0.1:%d" % (base + 12), "--client",
                            "127.0.0.1:%d" % (base + 2), "--log-level",
                            "warn"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert r.stderr == ("provcat-node: data dir '%s' is in use by "
                            "another process\n" % node2), r.stderr
        argv, env = run_make_run(c, run_dir, base)
        r = subprocess.run(argv, env=env, cwd=TOP, capture_output=True,
                           text=True, timeout=120)
    finally:
        lock.close()
    assert r.returncode != 0
    assert ("local-cluster: node 2 (HTTP 127.0.0.1:%d, raft 127.0.0.1:%d) "
            "exited:" % (base + 2, base + 12)) in r.stderr, r.stderr
    assert "is in use by another process" in r.stderr, r.stderr
    assert "Segmentation" not in r.stderr, r.stderr
    assert "3 nodes running" not in r.stdout
    assert "local-cluster: stopping nodes" in r.stdout
    for p in (base + 1, base + 3, base + 11, base + 13):
        assert not port_open("127.0.0.1:%d" % p), p


def test_make_run_default_ports_busy_picks_free(c):
    """With 8001 busy and no PORT_BASE, make run finds six free ports,
    says so, and records them."""
    run_dir = os.path.join(c.dir, "run")
    hold = socket.socket()
    try:
        hold.bind(("127.0.0.1", 8001))
        hold.listen(1)
    except OSError:
        pass  # busy already: the case under test all the same
    try:
        out, info = check_run(*run_make_run(c, run_dir), cwd=TOP,
                              timeout=120)
    finally:
        hold.close()
    assert "is busy; looking for six free ports" in out, out
    http = [int(n[0].split(":")[1]) for n in info["nodes"]]
    raft = [int(n[1].split(":")[1]) for n in info["nodes"]]
    base = http[0] - 1
    assert base % 20 == 0 and 8020 <= base <= 8980, http
    assert http == [base + 1, base + 2, base + 3], http
    assert raft == [base + 11, base + 12, base + 13], raft


def test_runners_name_what_hung(c):
    """A unit binary past UNIT_TIMEOUT and an integration test past
    INTEGRATION_TIMEOUT (or ignoring it) are named, and the runs fail."""
    units = os.path.join(c.dir, "units")
    os.makedirs(units)
    for name, body in (("test_ok", "exit 0"), ("test_hangs", "sleep 60"),
                       ("test_fails", "exit 3")):
        with open(os.path.join(units, name), "w") as f:
            f.write("#!/bin/sh\n%s\n" % body)
        os.chmod(os.path.join(units, name), 0o755)
    r = subprocess.run([os.path.join(TOP, "tests", "run-unit.sh"), units],
                       env=dict(os.environ, UNIT_TIMEOUT="1"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "unit: test_hangs hung: killed after 1 s (UNIT_TIMEOUT)" in r.stdout
    assert "unit: test_fails failed (exit status 3)" in r.stdout
    assert r.stdout.endswith(
        "unit: 3 binaries, 2 failed: test_fails test_hangs (hung)\n"), r.stdout

    tests = os.path.join(c.dir, "it")
    os.makedirs(tests)
    with open(os.path.join(tests, "test_fake.py"), "w") as f:
        f.write("import time\n"
                "def test_waits(c):\n    time.sleep(60)\n"
                "def test_passes(c):\n    pass\n"
                "def test_ignores_limit(c):\n"
                "    for _ in range(60):\n"
                "        try:\n            time.sleep(60)\n"
                "        except BaseException:\n            pass\n"
                "TESTS = [(test_waits, {'n': 0, 'start': False}),\n"
                "         (test_passes, {'n': 0, 'start': False}),\n"
                "         (test_ignores_limit, {'n': 0, 'start': False})]\n")
    t0 = time.time()
    r = subprocess.run([sys.executable, os.path.join(TOP, "tests",
                                                     "integration", "run.py")],
                       env=dict(os.environ, INTEGRATION_TEST_DIR=tests,
                                INTEGRATION_TIMEOUT="1",
                                INTEGRATION_GRACE="2"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout
    assert ("[FAIL] test_waits hung: no result after 1 s "
            "(INTEGRATION_TIMEOUT); it was here:") in r.stdout, r.stdout
    assert 'test_fake.py", line 3, in test_waits' in r.stdout, r.stdout
    assert "[ OK ] test_passes" in r.stdout
    assert ("[FAIL] test_ignores_limit hung: still running 2 s after its "
            "1 s limit") in r.stdout, r.stdout
    assert r.stdout.endswith("1 passed, 2 failed\n"), r.stdout
    assert time.time() - t0 < 20



# Takes fixed ports (make run), the terminal, the systemd notify socket and
# runs the runners themselves: alone (run.py).
SERIAL = True

TESTS = [
    (test_notify_ready_then_stopping, {"start": False}),
    (test_install_unit_as_systemd_runs_it, {"n": 0, "start": False}),
    (test_make_run_ctrl_c_exits_0_and_reruns, {"n": 0, "start": False}),
    (test_make_run_busy_port_is_named, {"n": 0, "start": False}),
    (test_make_run_failed_node_is_named, {"n": 0, "start": False}),
    (test_make_run_default_ports_busy_picks_free, {"n": 0, "start": False}),
    (test_runners_name_what_hung, {"n": 0, "start": False}),
]
