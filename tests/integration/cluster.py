# SPDX-License-Identifier: MIT
"""Start, stop and talk to real provcat-node processes on 127.0.0.1.

Every test gets a fresh temporary directory and kernel-chosen free ports;
nothing here talks to any address but the loopback. Only the Python
standard library is used, so a fresh Debian 12 machine needs nothing else.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD = os.environ.get("BUILD", "build")
NODE = os.path.abspath(os.path.join(BUILD, "provcat-node"))
# The build with test hooks (node/testhooks.c: PROVCAT_TEST_* variables);
# make install does not install it, and provcat-node has none.
NODE_TEST = os.path.abspath(os.path.join(BUILD, "provcat-node-test"))


def node_program(env):
    """provcat-node-test for a node given a PROVCAT_TEST_* variable (a test
    hook), else provcat-node, the program make install installs."""
    if any(k.startswith("PROVCAT_TEST_") for k in (env or {})):
        return NODE_TEST
    return NODE


def free_ports(n):
    """Ports the kernel hands out now (closed again before use)."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def request(url, method="GET", path="/", body=None, token=None, headers=None,
            timeout=10):
    host, port = url.replace("http://", "").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


class Node:
    def __init__(self, cluster, nid, peer_port, client_port):
        self.cluster = cluster
        self.id = nid
        self.peer = "127.0.0.1:%d" % peer_port
        self.client = "127.0.0.1:%d" % client_port
        self.url = "http://" + self.client
        self.dir = os.path.join(cluster.dir, "node%d" % nid)
        self.proc = None
        self.log = os.path.join(cluster.dir, "node%d.log" % nid)

    def start(self, state="new", extra=(), env=None):
        more = list(self.cluster.extra) + list(extra)
        # At info unless the test asks for another level.
        level = [] if "--log-level" in more else ["--log-level", "info"]
        args = [node_program(env), "--id", str(self.id), "--data-dir",
                self.dir,
                "--peer", self.peer, "--client", self.client,
                "--initial-cluster-state", state,
                "--admin-token-file", self.cluster.token_file] + level + more
        if self.cluster.spec:
            args += ["--cluster", self.cluster.spec]
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=logf, stderr=logf,
                                     env=dict(os.environ, **(env or {})))
        logf.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("node %d ignored SIGTERM" % self.id)
        return self.proc.returncode if self.proc else None

    def req(self, method, path, body=None, token=None, headers=None,
            timeout=10):
        return request(self.url, method, path, body, token, headers, timeout)

    def status(self):
        try:
            r = self.req("GET", "/v1/status", timeout=2)
            return r.json if r.status == 200 else None
        except OSError:
            return None


class Cluster:
    def __init__(self, n=3, extra=(), start=True):
        self.dir = tempfile.mkdtemp(prefix="provcat-it-")
        self.token_file = os.path.join(self.dir, "admin.token")
        self.extra = list(extra)
        ports = free_ports(2 * n)
        self.nodes = [Node(self, i + 1, ports[2 * i], ports[2 * i + 1])
                      for i in range(n)]
        self.spec = ",".join("%d=%s" % (x.id, x.peer) for x in self.nodes)
        if start:
            self.start_all()

    def start_all(self, env=None):
        """Start every node of a new cluster and wait for a ready leader;
        `env` is extra environment, or a function of the node giving it."""
        for x in self.nodes:
            x.start("new", env=env(x) if callable(env) else env)
            if x.id == 1:
                wait_for(lambda: os.path.exists(self.token_file)
                         and os.path.getsize(self.token_file) > 0, 5,
                         "admin token file")
        lead = self.wait_ready()
        self.settled(lead)

    def settled(self, lead, timeout=15):
        """Wait until the ledger records every member's client URL (each
        node tells the leader its own soon after it joins: a `member`
        fact) and every live node applied it, so a test starts from a
        ledger that only its own requests change."""
        def urls():
            st = lead.status()
            return st and all(m.get("client_url") for m in st["members"])
        wait_for(urls, timeout, "every member's client URL in the ledger")
        return self.converged(timeout)

    @property
    def token(self):
        with open(self.token_file) as f:
            return f.read().strip()

    def leader(self, timeout=10):
        def find():
            for x in self.nodes:
                if not x.alive():
                    continue
                s = x.status()
                if s and s["state"] == "leader":
                    return x
            return None
        return wait_for(find, timeout, "a leader")

    def wait_ready(self, timeout=15):
        lead = self.leader(timeout)
        wait_for(lambda: lead.req("GET", "/readyz").status == 200, timeout,
                 "readyz on the leader")
        return lead

    def converged(self, timeout=20, nodes=None):
        """Wait until every live node has the same (revision, root)."""
        nodes = nodes or [x for x in self.nodes if x.alive()]

        def same():
            st = [x.status() for x in nodes]
            if any(s is None for s in st):
                return None
            pairs = {(s["revision"], s["root"]) for s in st}
            return st[0] if len(pairs) == 1 else None
        return wait_for(same, timeout, "replicas to converge")

    def close(self, keep=False):
        for x in self.nodes:
            try:
                x.stop()
            except AssertionError:
                pass
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Skip(Exception):
    """Raised by a test that cannot run here; the runner prints the reason
    as [SKIP] and counts it (never silently)."""


def wait_for(fn, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except OSError as e:
            last = e
        time.sleep(0.05)
    raise AssertionError("timed out after %ss waiting for %s (%s)" %
                         (timeout, what, last))


def appends_nothing(node, act, tries=5):
    """Run act() until the ledger revision stays put across it; return what
    it returned. The nodes' own facts (an idle tick, a security summary
    after a leader change) land between two reads only rarely, while an act
    that appends moves the revision on every try."""
    for _ in range(tries):
        rev = node.status()["revision"]
        out = act()
        if node.status()["revision"] == rev:
            return out
    raise AssertionError("the revision moved on each of %d tries" % tries)


def metric(node, name):
    """The value of a metric sample in the node's /metrics: `name` is the
    sample as written before its value ('provcat_x' or 'provcat_x{a="b"}');
    an int when the value is whole, else a float."""
    for line in node.req("GET", "/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            v = line.split()[-1]
            return int(v) if v.lstrip("-").isdigit() else float(v)
    raise AssertionError("no metric " + name)


def create_orgs(lead, token, orgs):
    """POST /v1/orgs, each answered 201: an org given by its id is a
    province agency under the authority; (id, level, authority) sets its
    level and whether it is an authority."""
    for o in orgs:
        body = {"id": o, "name": o, "level": "province", "kind": "agency",
                "parent": "authority"}
        if not isinstance(o, str):
            oid, level, auth = o
            body.update({"id": oid, "name": oid, "level": level,
                         "authority": auth})
        r = lead.req("POST", "/v1/orgs", body, token=token)
        assert r.status == 201, r


def create_principals(lead, token, principals, tok):
    """POST /v1/principals for each (id, org, roles), each answered 201
    (org None: a citizen, with neither org nor roles); their tokens go
    into `tok` by id."""
    for pid, org, roles in principals:
        body = {"id": pid}
        if org:
            body.update({"org": org, "roles": roles})
        r = lead.req("POST", "/v1/principals", body, token=token)
        assert r.status == 201, r
        tok[pid] = r.json["token"]
