# SPDX-License-Identifier: MIT
"""What an operator sees (issue #15): /metrics checked by promtool, host
names and https:// advertise URLs, clients behind trusted proxies, a
failed-login limiter that never locks out a valid token, request ids, and
the log lines events leave, as text and as JSON."""
import json
import os
import re
import subprocess
import time

from cluster import (Cluster, Node, Skip, free_ports, metric, request,
                     wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BOGUS = "pct_" + "A" * 43


def org(oid):
    return {"id": oid, "name": "Org " + oid, "level": "province",
            "kind": "agency", "parent": "authority"}


def log_of(x):
    with open(x.log, errors="replace") as f:
        return f.read()


def lines_with(x, event):
    """The text log lines of node `x` for `event`."""
    return [ln for ln in log_of(x).splitlines()
            if " event=%s " % event in ln + " "]


def field(ln, key):
    m = re.search(r"\b%s=(\S+)" % re.escape(key), ln)
    return m.group(1) if m else None


def promtool():
    """The path of promtool, fetched by tools/promtool.sh if need be; a
    clear [SKIP] when there is none (no network, not Debian)."""
    try:
        p = subprocess.run([os.path.join(TOP, "tools", "promtool.sh")],
                           capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Skip("promtool unavailable: %s" % e)
    if p.returncode != 0 or not p.stdout.strip():
        raise Skip("promtool unavailable: %s" % p.stderr.strip())
    return p.stdout.strip().splitlines()[-1]


def families(text):
    """{name: type} from the TYPE lines, and the HELP names; checks that
    each family's samples follow its TYPE line together."""
    types, helps, order = {}, set(), []
    for ln in text.splitlines():
        if ln.startswith("# HELP "):
            helps.add(ln.split()[2])
        elif ln.startswith("# TYPE "):
            _, _, name, typ = ln.split()
            assert name not in types, "two TYPE lines for " + name
            types[name] = typ
            order.append(name)
        elif ln and not ln.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", ln).group(0)
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            fam = name if name in types else base
            assert fam in types, "sample %s without a TYPE line" % name
            assert order[-1] == fam, "%s is apart from its family" % name
    return types, helps


def test_metrics_pass_promtool(c):
    """After requests of several routes and statuses on the leader and a
    follower, promtool finds nothing to say about either's /metrics;
    every family has HELP and TYPE, base units, counters end in _total;
    requests are counted by route template (never a raw path) and status,
    latencies by route family; raft, build and process metrics are
    there; a node at --log-level info logs no request and no raft line."""
    tool = promtool()
    lead = c.wait_ready()
    fol = [x for x in c.nodes if x is not lead][0]
    t = c.token
    assert lead.req("POST", "/v1/orgs", org("m1"), token=t).status == 201
    assert lead.req("POST", "/v1/orgs", org("m1"), token=t).status == 409
    assert lead.req("POST", "/v1/orgs", {"id": 1}, token=t).status == 400
    assert lead.req("GET", "/v1/orgs/m1", token=t).status == 200
    assert lead.req("GET", "/v1/orgs/zz", token=t).status == 404
    assert lead.req("GET", "/v1/whoami", token=BOGUS).status == 401
    assert lead.req("DELETE", "/v1/orgs/m1", token=t).status == 405
    assert lead.req("GET", "/no/such/route").status == 404
    assert lead.req("GET", "/v1/status").status == 200
    # 503 until the follower has applied the leader's client URL.
    r = wait_for(lambda: (lambda r: r if r.status != 503 else None)(
        fol.req("POST", "/v1/orgs", org("m2"), token=t)), 10,
        "a redirect from the follower")
    assert r.status == 307, r
    assert fol.req("GET", "/v1/orgs?consistency=stale",
                   token=t).status == 200
    c.converged()
    expect = {
        lead: ['{method="POST",route="/v1/orgs",code="201"} 1',
               '{method="POST",route="/v1/orgs",code="409"} 1',
               '{method="POST",route="/v1/orgs",code="400"} 1',
               '{method="GET",route="/v1/orgs/{id}",code="200"} 1',
               '{method="GET",route="/v1/orgs/{id}",code="404"} 1',
               '{method="GET",route="/v1/whoami",code="401"} 1',
               '{method="any",route="unmatched",code="404"} 1',
               # DELETE on a data path runs no route: 405 immutable
               '{method="any",route="unmatched",code="405"} 1',
               # polled by the test's helpers too: any count
               '{method="GET",route="/v1/status",code="200"} '],
        fol: ['{method="POST",route="/v1/orgs",code="307"} 1',
              '{method="GET",route="/v1/orgs",code="200"} 1'],
    }
    with open(os.path.join(TOP, os.environ.get("BUILD", "build"),
                           "commit.txt")) as f:
        commit = f.read().strip()
    for x in (lead, fol):
        text = x.req("GET", "/metrics").body.decode()
        p = subprocess.run([tool, "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and p.stdout + p.stderr == "", \
            (x.id, p.stdout, p.stderr)
        types, helps = families(text)
        assert set(types) == helps, set(types) ^ helps
        for name, typ in types.items():
            assert not re.search(r"_(ms|us|ns|kb|mb)(_|$)", name), name
            assert (typ == "counter") == name.endswith("_total"), name
        for want in expect[x]:
            assert "provcat_http_requests_total" + want in text, (x.id, want)
        for ln in text.splitlines():
            if "route=" in ln:
                route = re.search(r'route="([^"]*)"', ln).group(1)
                assert route == "unmatched" or "m1" not in route, ln
        assert re.search(r'provcat_build_info\{version="[0-9.]+",'
                         r'commit="%s",raft="0\.(22\.1|15\.0)"\} 1'
                         % re.escape(commit), text), text[:400]
        assert metric(x, "provcat_raft_has_leader") == 1
        assert metric(x, "provcat_raft_leader_id") == lead.id
        assert metric(x, "provcat_raft_term") >= 1
        assert metric(x, "process_open_fds") > 5
        assert metric(x, "process_resident_memory_bytes") > 1 << 20
        started = metric(x, "process_start_time_seconds")
        assert 0 <= time.time() - started < 600, started
        # CPU time counts in clock ticks: a few ms may still read 0.
        cpu = metric(x, "process_cpu_seconds_total")
        assert 0 <= cpu <= 2 * (time.time() - started) + 0.1, cpu
        assert metric(x, "provcat_raft_append_duration_seconds_count") > 0
        assert metric(x, "provcat_raft_apply_duration_seconds_count") > 0
    lm = lead.req("GET", "/metrics").body.decode()
    assert metric(lead, "provcat_raft_commit_duration_seconds_count") > 0
    assert 'provcat_http_request_duration_seconds_count{family="orgs",' \
        'kind="write"} 3' in lm, lm  # 201, 409, 400
    assert re.search(r'provcat_http_request_duration_seconds_bucket\{'
                     r'family="health",kind="local",le="\+Inf"\} [1-9]', lm)
    for y in c.nodes:
        if y is not lead:
            assert metric(lead, 'provcat_raft_peer_connected{peer="%d"}'
                          % y.id) == 1
            assert metric(lead, 'provcat_raft_follower_lag_entries{id="%d"}'
                          % y.id) >= 0
    for x in c.nodes:
        log = log_of(x)
        assert " event=request " not in log and " event=raft " not in log
    check_docs_and_dashboard(tool, families(lm)[0], c.dir)


def check_docs_and_dashboard(tool, types, tmp):
    """docs/node.md lists every family a node exports; the PromQL of its
    alert table and of docker/grafana-dashboard.json parses (promtool check
    rules) and names only families that exist."""
    with open(os.path.join(TOP, "docs", "node.md")) as f:
        doc = f.read()
    metrics = doc[doc.index("### Metrics"):doc.index("### Logs")]
    table, alerts = metrics.split("What to alert on")
    listed = set(re.findall(r"`((?:provcat|process)_[a-z_]+)", table))
    assert set(types) <= listed, "not in docs/node.md: %s" % (
        set(types) - listed)
    exprs = []
    for ln in alerts.splitlines():
        cols = ln.split("|")
        if len(cols) > 3 and "`" in cols[2]:
            exprs += re.findall(r"`([^`]+)`", cols[2])
    assert len(exprs) >= 10, exprs
    with open(os.path.join(TOP, "docker", "grafana-dashboard.json")) as f:
        dash = json.load(f)
    for p in dash["panels"]:
        for t in p.get("targets", []):
            assert "$instance" in t["expr"], t["expr"]
            exprs.append(t["expr"].replace("$instance", ".*"))
    rules = {"groups": [{"name": "check", "rules": [
        {"record": "provcat_check:expr_%d" % i, "expr": e}
        for i, e in enumerate(exprs)]}]}
    path = os.path.join(tmp, "rules.yml")
    with open(path, "w") as f:
        json.dump(rules, f)  # JSON is YAML
    p = subprocess.run([tool, "check", "rules", path], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    for e in exprs:
        for name in re.findall(r"\b((?:provcat|process)_[a-z_]+)", e):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in types or base in types, (name, e)


def start_named(c, nodes, advertise):
    """Start `nodes` of `c` with raft addresses "localhost:PORT" and the
    advertise URL advertise(node); returns once a leader is ready."""
    for x in nodes:
        x.peer = "localhost:" + x.peer.split(":")[1]
    c.spec = ",".join("%d=%s" % (x.id, x.peer) for x in nodes)
    for x in nodes:
        x.start("new", extra=["--advertise-client-url", advertise(x)])
    return c.wait_ready(timeout=20)


def test_host_names_and_https_advertise_urls(c):
    """--peer, --cluster and --advertise-client-url by host name: the
    cluster forms, replicates and redirects to the name; a fourth node
    joins by name with an https:// client URL, leads after a transfer, and
    followers redirect writes to its https URL (the node serves no TLS:
    a proxy in front would). The join and the transfer each leave an
    "asked" and a "finished" line naming the member and the request."""
    lead = start_named(c, c.nodes,
                       lambda x: "http://localhost:" + x.client.split(":")[1])
    st = lead.status()
    if 'raft="0.15.0"' in lead.req("GET", "/metrics").body.decode():
        # make RAFT=system: names resolved once, at start (docs/node.md).
        want = [x.peer.replace("localhost:", "127.0.0.1:") for x in c.nodes]
        for x in c.nodes:
            res = lines_with(x, "resolved")
            assert res and field(res[0], "address").startswith("127.0.0.1:")
    else:
        want = [x.peer for x in c.nodes]
    assert sorted(m["address"] for m in st["members"]) == sorted(want), st
    assert st["address"] == lead.peer, st
    r = lead.req("POST", "/v1/orgs", org("h1"), token=c.token)
    assert r.status == 201, r
    c.converged()
    fol = [x for x in c.nodes if x is not lead][0]
    r = wait_for(lambda: (lambda r: r if r.status != 503 else None)(
        fol.req("POST", "/v1/orgs", org("h2"), token=c.token)), 10,
        "a redirect from the follower")
    assert r.status == 307, r
    assert r.headers["location"] == "http://localhost:%s/v1/orgs" % \
        lead.client.split(":")[1], r.headers
    for x in c.nodes:
        assert lines_with(x, "peer_connected"), x.id
    # A fourth node by name, advertising https.
    pp, cp = free_ports(2)
    n4 = Node(c, 4, pp, cp)
    n4.peer = "localhost:%d" % pp
    https = "https://localhost:%d" % cp
    c.nodes.append(n4)
    saved, c.spec = c.spec, ""
    n4.start("existing", extra=["--advertise-client-url", https])
    c.spec = saved
    r = lead.req("POST", "/v1/members", {"id": 4, "address": n4.peer,
                                         "client_url": https},
                 token=c.token, headers={"X-Request-Id": "join-4"})
    assert r.status == 202, r
    assert r.headers["x-request-id"] == "join-4"
    wait_for(lambda: any(m["id"] == 4 and m["role"] == "voter" and
                         "status" not in m
                         for m in lead.status()["members"]), 30, "voter 4")
    asked = [ln for ln in lines_with(lead, "membership_change_asked")
             if field(ln, "request_id") == "join-4"]
    assert len(asked) == 1 and field(asked[0], "member") == "4" and \
        field(asked[0], "principal") == "admin" and \
        field(asked[0], "address") == n4.peer, asked
    done = wait_for(lambda: [ln for ln in lines_with(
        lead, "membership_change_finished")
        if field(ln, "request_id") == "join-4"], 10, "the finished line")
    assert field(done[0], "result") == "OK", done
    c.converged()
    r = lead.req("POST", "/v1/leader/transfer", {"id": 4}, token=c.token,
                 headers={"X-Request-Id": "move-4"})
    assert r.status == 200 and r.json["leader"]["id"] == 4, r
    assert r.json["leader"]["client_url"] == https, r
    tr = [ln for ln in lines_with(lead, "leadership_transfer")
          if field(ln, "request_id") == "move-4"]
    assert len(tr) == 1 and field(tr[0], "from") == str(lead.id) and \
        field(tr[0], "to") == "4", tr
    fin = [ln for ln in lines_with(lead, "leadership_transfer_finished")
           if field(ln, "request_id") == "move-4"]
    assert len(fin) == 1 and field(fin[0], "to") == "4", fin
    wait_for(lambda: lines_with(n4, "election_won"), 10, "node 4's election")
    other = [x for x in c.nodes if x is not n4][0]
    r = wait_for(lambda: (lambda r: r if r.status == 307 else None)(
        other.req("POST", "/v1/orgs", org("h3"), token=c.token)), 10,
        "a redirect to node 4")
    assert r.headers["location"] == https + "/v1/orgs", r.headers
    assert r.json["error"]["leader"]["client_url"] == https
    # A --peer name that does not resolve stops the node at start, saying so.
    pp, cp = free_ports(2)
    p = subprocess.run([os.path.join(TOP, os.environ.get("BUILD", "build"),
                                     "provcat-node"),
                        "--id", "5", "--data-dir", os.path.join(c.dir, "n5"),
                        "--peer", "no-such-host.invalid:%d" % pp,
                        "--client", "127.0.0.1:%d" % cp],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "provcat-node: --peer: cannot resolve 'no-such-host.invalid'" \
        in p.stderr, p.stderr


def test_trusted_proxy_and_fair_limiter(c):
    """Behind --trusted-proxy 127.0.0.1: each X-Forwarded-For client has
    its own failure budget (--rate-limit 3), a forged left entry changes
    nothing, a client over its limit still gets through with a valid
    token, 429 carries the real rest of the window in Retry-After, and the
    security log and debug lines name the real client."""
    lead = c.wait_ready()
    t = c.token
    a = {"X-Forwarded-For": "203.0.113.7"}
    b = {"X-Forwarded-For": "198.51.100.9"}
    t0 = time.time()
    for _ in range(3):
        r = lead.req("GET", "/v1/whoami", token=BOGUS, headers=a)
        assert r.status == 401, r
    r = lead.req("GET", "/v1/whoami", token=BOGUS, headers=a)
    assert r.status == 429, r
    first = int(r.headers["retry-after"])
    assert 60 - (time.time() - t0) - 2 <= first <= 60, first
    # A valid token from the same address is never refused.
    r = lead.req("GET", "/v1/whoami", token=t, headers=a)
    assert r.status == 200 and r.json["id"] == "admin", r
    # Another client behind the same proxy has its own budget.
    assert lead.req("GET", "/v1/whoami", token=BOGUS,
                    headers=b).status == 401
    # A forged entry left of the proxy's: the client is still A.
    r = lead.req("GET", "/v1/whoami", token=BOGUS,
                 headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7"})
    assert r.status == 429, r
    # No header: the proxy itself, with a budget of its own.
    assert lead.req("GET", "/v1/whoami", token=BOGUS).status == 401
    time.sleep(2.1)
    r = lead.req("GET", "/v1/whoami", token=BOGUS, headers=a)
    assert r.status == 429 and int(r.headers["retry-after"]) <= first - 2, r
    assert metric(lead, "provcat_rate_limited_total") == 3
    assert metric(lead, "provcat_auth_failures_total") == 5
    with open(os.path.join(lead.dir, "security.log")) as f:
        ev = [json.loads(ln) for ln in f]
    by = {}
    for e in ev:
        by.setdefault((e["client"], e["kind"]), 0)
        by[(e["client"], e["kind"])] += 1
    assert by.get(("203.0.113.7", "auth_failure")) == 3, by
    assert by.get(("203.0.113.7", "rate_limited")) == 3, by
    assert by.get(("198.51.100.9", "auth_failure")) == 1, by
    assert by.get(("127.0.0.1", "auth_failure")) == 1, by
    reqs = [ln for ln in lines_with(lead, "request")
            if field(ln, "route") == "/v1/whoami"]
    assert sum(field(ln, "client") == "203.0.113.7" for ln in reqs) == 7, reqs


def test_forwarded_for_ignored_without_trusted_proxy(c):
    """Without --trusted-proxy, X-Forwarded-For is the client's own claim:
    ignored, so changing it does not reset the limit; a valid token is
    served all the same."""
    lead = c.wait_ready()
    for i in range(2):
        r = lead.req("GET", "/v1/whoami", token=BOGUS,
                     headers={"X-Forwarded-For": "192.0.2.%d" % i})
        assert r.status == 401, r
    r = lead.req("GET", "/v1/whoami", token=BOGUS,
                 headers={"X-Forwarded-For": "192.0.2.99"})
    assert r.status == 429 and 1 <= int(r.headers["retry-after"]) <= 60, r
    r = lead.req("GET", "/v1/whoami", token=c.token)
    assert r.status == 200, r
    r = lead.req("GET", "/v1/whoami", headers={"Authorization": "Basic x"})
    assert r.status == 429, r  # a malformed header is a failure too
    with open(os.path.join(lead.dir, "security.log")) as f:
        assert {json.loads(ln)["client"] for ln in f} == {"127.0.0.1"}


def test_request_ids_and_debug_lines(c):
    """X-Request-Id is taken when valid, made when absent or invalid, and
    echoed; at --log-level debug each request has one line with its id,
    route and status, and raft's own tracing is in the log. A write
    without an id of its own stores the echoed id in its facts; one with
    the client's id stores an id made by the node, which its line names."""
    lead = c.wait_ready()
    r = lead.req("GET", "/v1/status", headers={"X-Request-Id": "trace.1-a"})
    assert r.headers["x-request-id"] == "trace.1-a"
    r = lead.req("GET", "/v1/status", headers={"X-Request-Id": "bad id"})
    made = r.headers["x-request-id"]
    assert re.fullmatch(r"n1-[0-9a-f]{8}-[0-9]+", made), made
    r = lead.req("GET", "/v1/status", headers={"X-Request-Id": "x" * 129})
    assert r.headers["x-request-id"] != "x" * 129
    r = lead.req("GET", "/healthz")
    assert re.fullmatch(r"n1-[0-9a-f]{8}-[0-9]+", r.headers["x-request-id"])
    # A write with no id: its facts carry the echoed one.
    r = lead.req("POST", "/v1/orgs", org("r1"), token=c.token)
    assert r.status == 201, r
    own = r.headers["x-request-id"]
    rev = r.json["revision"]
    r = lead.req("GET", "/v1/ledger/facts?from=%d&limit=1" % rev,
                 token=c.token)
    assert r.json["items"][0]["request_id"] == own, r
    # With the client's id: the facts get the node's, and the line says.
    r = lead.req("POST", "/v1/orgs", org("r2"), token=c.token,
                 headers={"X-Request-Id": "client-7"})
    assert r.status == 201 and r.headers["x-request-id"] == "client-7", r
    rev = r.json["revision"]
    fact_id = lead.req("GET", "/v1/ledger/facts?from=%d&limit=1" % rev,
                       token=c.token).json["items"][0]["request_id"]
    assert fact_id != "client-7"

    def line(rid):
        got = [ln for ln in lines_with(lead, "request")
               if field(ln, "request_id") == rid]
        return got[0] if len(got) == 1 else None
    ln = wait_for(lambda: line("client-7"), 5, "the request line")
    assert field(ln, "route") == "/v1/orgs" and field(ln, "status") == "201"
    assert field(ln, "principal") == "admin"
    assert field(ln, "fact_request_id") == fact_id, ln
    ln = line("trace.1-a")
    assert field(ln, "route") == "/v1/status" and field(ln, "status") == "200"
    assert field(ln, "fact_request_id") is None
    assert line(made) is not None and line(own) is not None
    assert len(lines_with(lead, "raft")) > 10


def test_json_log_lines(c):
    """--log-format json: every line the node writes is one JSON object
    with time, level, node and msg; events and requests carry their
    fields, the configuration is logged line by line."""
    lead = c.wait_ready()
    r = lead.req("GET", "/v1/status", headers={"X-Request-Id": "j-1"})
    assert r.status == 200
    assert lead.stop() == 0
    seen = {}
    for ln in log_of(lead).splitlines():
        o = json.loads(ln)
        assert {"time", "level", "node", "msg"} <= set(o), o
        assert o["node"] == 1
        seen.setdefault(o.get("event"), []).append(o)
    assert any(o["msg"] == "log-format = json" for o in seen["config"])
    req = [o for o in seen["request"] if o.get("request_id") == "j-1"]
    assert len(req) == 1 and req[0]["status"] == 200 and \
        req[0]["route"] == "/v1/status", req
    assert isinstance(req[0]["us"], int)
    assert len(seen["raft"]) > 10 and "file" in seen["raft"][0]
    assert seen["leader_changed"][0]["to"] == 1


def test_events_leave_one_line_each(c):
    """Elections, leader changes, peers lost and connected, snapshots taken
    and installed, backups served, a full disk and its recovery, clock
    skew and a restore each leave a line with the ids that matter."""
    lead = c.wait_ready()
    won = lines_with(lead, "election_won")
    assert won and field(won[-1], "term") == str(lead.status()["term"])
    for x in c.nodes:
        ch = lines_with(x, "leader_changed")
        assert ch and field(ch[-1], "to") == str(lead.id), (x.id, ch)
    lag = [x for x in c.nodes if x is not lead][0]
    lag.kill()
    for i in range(120):
        assert lead.req("POST", "/v1/orgs", org("e%d" % i),
                        token=c.token).status == 201
    lost = wait_for(lambda: [ln for ln in lines_with(lead, "peer_lost")
                             if field(ln, "peer") == str(lag.id)], 10,
                    "the leader's peer_lost line")
    assert field(lost[0], "address") == lag.peer
    snap = wait_for(lambda: lines_with(lead, "snapshot_taken"), 20,
                    "a snapshot on the leader")
    assert int(field(snap[0], "index")) > 0 and \
        int(field(snap[0], "bytes")) > 0 and field(snap[0], "ms") is not None
    lag.start("existing")
    c.converged(timeout=30)
    inst = wait_for(lambda: lines_with(lag, "snapshot_installed"), 10,
                    "the lagging node's snapshot_installed line")
    assert int(field(inst[0], "index")) > 0 and \
        int(field(inst[0], "bytes")) > 0, inst
    wait_for(lambda: len(lines_with(lead, "peer_connected")) >= 3, 10,
             "the leader reconnecting")
    # A backup names who took it, the revision and the size.
    r = lead.req("GET", "/v1/backup", token=c.token, timeout=30,
                 headers={"X-Request-Id": "bk-1"})
    assert r.status == 200, r
    b = [ln for ln in lines_with(lead, "backup_served")
         if field(ln, "request_id") == "bk-1"]
    assert len(b) == 1 and field(b[0], "principal") == "admin" and \
        field(b[0], "revision") == r.headers["x-provcat-backup-revision"] \
        and field(b[0], "bytes") == str(len(r.body)), b
    path = os.path.join(c.dir, "b.snap")
    with open(path, "wb") as f:
        f.write(r.body)
    # A follower's disk fills and empties; its clock runs 10 s behind.
    fol = [x for x in c.nodes if x is not lead and x is not lag][0]
    free = os.path.join(c.dir, "free")
    with open(free, "w") as f:
        f.write("1000\n")
    assert fol.stop() == 0
    fol.start("existing", env={"PROVCAT_TEST_DISK_FREE_FILE": free,
                               "PROVCAT_TEST_CLOCK_OFFSET_MS": "-10000"})
    full = wait_for(lambda: lines_with(fol, "disk_full"), 10, "disk_full")
    assert field(full[0], "free_bytes") == "1000"
    with open(free, "w") as f:
        f.write("%d\n" % (1 << 40))
    back = wait_for(lambda: lines_with(fol, "disk_recovered"), 10,
                    "disk_recovered")
    assert field(back[0], "free_bytes") == str(1 << 40)
    assert lead.req("POST", "/v1/orgs", org("skew"),
                    token=c.token).status == 201
    skew = wait_for(lambda: lines_with(fol, "clock_skew"), 10, "clock_skew")
    assert 5000 < int(field(skew[0], "ahead_ms")) < 20000, skew
    assert field(skew[0], "leader") == str(lead.id)
    # --restore: one line with the backup, its revision and root.
    pp, cp = free_ports(2)
    x = Node(c, 9, pp, cp)
    c.nodes.append(x)
    saved, c.spec = c.spec, ""
    x.start("existing", extra=["--restore", path])
    c.spec = saved
    wait_for(lambda: (x.status() or {}).get("state") == "leader", 20,
             "the restored node")
    rs = lines_with(x, "restored")
    assert len(rs) == 1 and \
        field(rs[0], "revision") == r.headers["x-provcat-backup-revision"] \
        and field(rs[0], "root") == r.headers["x-provcat-backup-root"], rs
    assert lines_with(x, "snapshot_loaded")


TESTS = [
    (test_metrics_pass_promtool, {}),
    (test_host_names_and_https_advertise_urls, {"start": False}),
    (test_trusted_proxy_and_fair_limiter,
     {"n": 1, "extra": ["--trusted-proxy", "127.0.0.1/32", "--rate-limit",
                        "3", "--log-level", "debug"]}),
    (test_forwarded_for_ignored_without_trusted_proxy,
     {"n": 1, "extra": ["--rate-limit", "2"]}),
    (test_request_ids_and_debug_lines,
     {"n": 1, "extra": ["--log-level", "debug"]}),
    (test_json_log_lines,
     {"n": 1, "extra": ["--log-format", "json", "--log-level", "debug"]}),
    (test_events_leave_one_line_each,
     {"extra": ["--snapshot-threshold", "32", "--snapshot-trailing", "8"]}),
]
