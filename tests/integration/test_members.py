# SPDX-License-Identifier: MIT
"""Membership edges on real nodes: every live member's client URL is in
the ledger (founders, joiners, a node restarted at another URL); a removed
member logs it, answers 503 removed on data routes and /readyz and exits 0
(or, with --exit-when-removed false, stays up answering 503); a spare
that never caught up goes without ?force; the voter-count message counts
voters."""
import os
import subprocess
import time

from cluster import Node, free_ports, metric, wait_for


def _urls_known(node, nodes):
    """Whether `node`'s /v1/status shows the URL of each of `nodes`."""
    st = node.status()
    if st is None:
        return False
    have = {m["id"]: m.get("client_url") for m in st["members"]}
    return all(have.get(x.id) == x.url for x in nodes)


def _join(c, nid, extra=()):
    """Start node `nid` on an empty data dir and add it; wait until it is
    a voter. Returns the node."""
    lead = c.leader()
    pp, cp = free_ports(2)
    x = Node(c, nid, pp, cp)
    c.nodes.append(x)
    saved, c.spec = c.spec, ""
    x.start("existing", extra=extra)
    c.spec = saved
    r = lead.req("POST", "/v1/members", {"id": nid, "address": x.peer,
                                         "client_url": x.url}, token=c.token)
    assert r.status == 202, r
    wait_for(lambda: any(m["id"] == nid and m["role"] == "voter"
                         for m in c.leader().status()["members"]), 30,
             "voter %d" % nid)
    return x


def _remove(c, nid):
    """DELETE /v1/members/nid on the leader, retried while the previous
    change is still committing (409 in flight)."""
    def once():
        r = c.leader().req("DELETE", "/v1/members/%d" % nid, token=c.token)
        return r if r.status != 409 else None
    r = wait_for(once, 20, "removal of %d" % nid)
    assert r.status == 200, r


def _log(x):
    with open(x.log) as f:
        return f.read()


def test_members_client_urls(c):
    """After a fresh start every node shows every founder's client URL
    (each follower told the leader its own); a joiner's URL is its own even
    when POST /v1/members named another; a node restarted at another URL
    has the new one recorded."""
    c.converged()
    for x in c.nodes:
        wait_for(lambda: _urls_known(x, c.nodes), 15,
                 "node %d to know every founder's URL" % x.id)
    lead = c.leader()
    # A joiner added with a wrong URL corrects it itself.
    pp, cp = free_ports(2)
    n4 = Node(c, 4, pp, cp)
    c.nodes.append(n4)
    saved, c.spec = c.spec, ""
    n4.start("existing")
    c.spec = saved
    r = lead.req("POST", "/v1/members", {"id": 4, "address": n4.peer,
                                         "client_url": "http://127.0.0.1:9"},
                 token=c.token)
    assert r.status == 202, r
    for x in c.nodes:
        wait_for(lambda: _urls_known(x, c.nodes), 30,
                 "node %d to know node 4's own URL" % x.id)
    # A follower restarted with another --client (so another URL).
    y = next(x for x in c.nodes if x is not c.leader() and x.id != 4)
    assert y.stop() == 0
    y.client = "127.0.0.1:%d" % free_ports(1)[0]
    y.url = "http://" + y.client
    saved, c.spec = c.spec, ""
    y.start("existing")
    c.spec = saved
    c.wait_ready()
    for x in c.nodes:
        wait_for(lambda: _urls_known(x, c.nodes), 20,
                 "node %d to know node %d's new URL" % (x.id, y.id))


def test_members_removed_node_exits(c):
    """A removed member (default --exit-when-removed true) logs that it
    was removed and exits 0 on its own."""
    n4 = _join(c, 4)
    c.converged()
    _remove(c, 4)
    wait_for(lambda: not n4.alive(), 30, "node 4 to exit")
    assert n4.proc.returncode == 0, n4.proc.returncode
    log = _log(n4)
    assert "this node was removed from the cluster" in log, log[-2000:]
    assert "stopping (--exit-when-removed)" in log, log[-2000:]
    c.nodes.remove(n4)
    # The cluster goes on with three voters.
    r = c.leader().req("POST", "/v1/orgs",
                       {"id": "after", "name": "n", "level": "province",
                        "kind": "agency", "parent": "authority"},
                       token=c.token)
    assert r.status == 201, r


def test_members_removed_node_stays_503(c):
    """With --exit-when-removed false a removed member stays up and
    answers 503 removed on data routes and /readyz (no stale reads), while
    /healthz, /metrics and /v1/status still answer."""
    n4 = _join(c, 4, extra=["--exit-when-removed", "false"])
    c.converged()
    r = n4.req("GET", "/v1/catalog?consistency=stale")
    assert r.status == 200, r
    _remove(c, 4)

    def removed():
        r = n4.req("GET", "/readyz")
        return r if r.status == 503 and r.json["error"]["code"] == \
            "removed" else None
    wait_for(removed, 30, "node 4 to answer 503 removed")
    for path in ("/v1/catalog?consistency=stale", "/v1/orgs/authority",
                 "/v1/ledger", "/v1/catalog/x/records/k?consistency=stale"):
        r = n4.req("GET", path, token=c.token)
        assert r.status == 503 and r.json["error"]["code"] == "removed", \
            (path, r)
        assert r.headers.get("retry-after") == "1", r.headers
    r = n4.req("POST", "/v1/orgs", {"id": "z", "name": "z",
                                    "level": "province", "kind": "agency",
                                    "parent": "authority"}, token=c.token)
    assert r.status == 503 and r.json["error"]["code"] == "removed", r
    assert n4.req("GET", "/healthz").status == 200
    st = n4.status()
    assert st["removed"] is True, st
    assert metric(n4, "provcat_removed") == 1
    # Logged by the next watch tick (50 ms).
    wait_for(lambda: "this node was removed from the cluster" in _log(n4),
             5, "the log line")
    assert "stopping" not in _log(n4).split("removed from the cluster")[1]
    time.sleep(1)
    assert n4.alive()
    # A client whose endpoints start with the removed node goes on to the
    # others (libprovcat retries 503 removed elsewhere).
    cli = os.path.join(os.environ.get("BUILD", "build"), "provcat")
    tf = os.path.join(c.dir, "cli.token")
    with open(tf, "w") as f:
        f.write(c.token + "\n")
    p = subprocess.run([cli, "--endpoints", ",".join(
        [n4.url] + [x.url for x in c.nodes if x is not n4]),
        "--token-file", tf, "-o", "json", "whoami"],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and '"admin"' in p.stdout, (p.stdout, p.stderr)
    # Members that were not removed say so too.
    assert c.leader().status()["removed"] is False
    assert metric(c.leader(), "provcat_removed") == 0
    assert n4.stop() == 0
    c.nodes.remove(n4)


def test_members_remove_spare_without_force(c):
    """In a one-voter cluster a spare that never caught up (its address
    answers nothing) is removed without ?force; removing a voter below
    three says how many voters would remain."""
    lead = c.leader()
    r = lead.req("POST", "/v1/members", {"id": 7, "address": "127.0.0.1:9",
                                         "client_url": "http://127.0.0.1:9"},
                 token=c.token)
    assert r.status == 202, r
    wait_for(lambda: any(m["id"] == 7 and m["role"] == "spare"
                         for m in lead.status()["members"]), 10, "spare 7")
    # The promotion gives up after raft's catch-up round (30 s); until
    # then the change is in flight (409).
    def removed():
        r = lead.req("DELETE", "/v1/members/7", token=c.token)
        if r.status == 409:
            assert "in flight" in r.json["error"]["message"], r
            return None
        return r
    r = wait_for(removed, 60, "spare 7 removed")
    assert r.status == 200, r
    wait_for(lambda: all(m["id"] != 7 for m in lead.status()["members"]),
             10, "member 7 gone")
    r = lead.req("DELETE", "/v1/members/1", token=c.token)
    assert r.status == 409, r
    msg = r.json["error"]["message"]
    assert "would leave 0 voters" in msg, msg


def test_members_voter_count_message(c):
    """In a three-voter cluster removing a voter is 409 naming the two
    voters left."""
    lead = c.leader()
    other = next(x for x in c.nodes if x is not lead)
    r = lead.req("DELETE", "/v1/members/%d" % other.id, token=c.token)
    assert r.status == 409, r
    msg = r.json["error"]["message"]
    assert "removing voter %d would leave 2 voters" % other.id in msg, msg


TESTS = [
    (test_members_client_urls, {}),
    (test_members_removed_node_exits, {}),
    (test_members_removed_node_stays_503, {}),
    (test_members_remove_spare_without_force, {"n": 1}),
    (test_members_voter_count_message, {}),
]
