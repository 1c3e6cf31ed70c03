# SPDX-License-Identifier: MIT
"""Objections, corrections and redaction (articles 14, 16) over HTTP on a
3-node cluster: filing without an existence oracle, who sees and decides,
out-of-turn decisions, disputed records, corrections that resolve,
omissions, redaction with every hash, chain and Merkle proof recomputed
here, and the forced compaction: within 60 s of a redaction committing,
the document is in no file of any node's data directory (snapshot frames
decompressed: datascan.py), under write load or none, on a node that gets
it through a snapshot install, after a full restart and after every node
was killed mid-way; backups after it leave it out, an older one restored
with the live cluster's redaction list does too."""
import hashlib
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.parse

import datascan
from cluster import (BUILD, Cluster, Node, create_orgs, create_principals,
                     free_ports, metric, wait_for)

FIELDS = [{"name": "name", "type": "string", "required": True}]
DEADLINE_S = 60  # the bound, from the redaction's answer


def H(b):
    return hashlib.blake2b(b, digest_size=32).digest()


def _world(c):
    """Orgs dept (provider) and dept2; principals prov (dept provider),
    dcons (dept consumer), prov2 (dept2 provider), cons (dept2 consumer),
    aud (auditor), cit (citizen). Entries e (published, open to all) and
    h (a draft). Returns (leader, tokens by principal id)."""
    lead = c.leader()
    tok = {"admin": c.token}
    create_orgs(lead, c.token, ("dept", "dept2"))
    create_principals(lead, c.token, (("prov", "dept", ["provider"]),
                                      ("dcons", "dept", ["consumer"]),
                                      ("prov2", "dept2", ["provider"]),
                                      ("cons", "dept2", ["consumer"]),
                                      ("aud", "authority", ["auditor"]),
                                      ("cit", None, None)), tok)
    for eid, publish in (("e", True), ("h", False)):
        body = {"id": eid, "title": eid, "provider": "dept",
                "fields": FIELDS,
                "share": {"class": "unconditional"},
                "open": {"class": "unconditional"},
                "update_frequency": "daily", "security_level": 2,
                "scope": "province"}
        r = lead.req("POST", "/v1/catalog", body, token=tok["prov"])
        assert r.status == 201, r
        if publish:
            r = lead.req("POST", "/v1/catalog/%s/submit" % eid,
                         token=tok["prov"])
            assert r.status == 200, r
            r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                         {"decision": "approve"}, token=tok["admin"])
            assert r.status == 200, r
    return lead, tok


def _p(eid, key, suffix=""):
    return "/v1/catalog/%s/records/%s%s" % (
        eid, urllib.parse.quote(key, safe=""), suffix)


def _file(lead, tok, who, key, kind, entry="e", want=201):
    r = lead.req("POST", "/v1/objections",
                 {"entry": entry, "key": key, "kind": kind,
                  "description": "this is about me"}, token=tok[who])
    assert r.status == want, r
    return r.json


def _decide(lead, tok, who, oid, decision, want=200):
    r = lead.req("POST", "/v1/objections/%s/decide" % oid,
                 {"decision": decision, "reason": "checked"}, token=tok[who])
    assert r.status == want, (who, oid, decision, r)
    return r.json


def _redact(lead, tok, key, version, oid, who="admin", want=200):
    r = lead.req("POST", _p("e", key, "/versions/%d/redact" % version),
                 {"objection": oid, "reason": "article 16"}, token=tok[who])
    assert r.status == want, (key, version, oid, r)
    return r


def _facts(lead, tok, since):
    """The ledger's facts from revision `since` (auditors may read them)."""
    r = lead.req("GET", "/v1/ledger/facts?from=%d&limit=1000" % since,
                 token=tok["aud"])
    assert r.status == 200, r
    return r.json["items"]


def test_objections_workflow(c):
    """Filing (201 for any well-formed key of a visible entry; 404, 401,
    400 otherwise), who sees what, every wrong-role and out-of-turn
    decision (each a rejection fact), disputed reads, a correction that
    resolves and links its version, an omission creating its record,
    listing with filters and pages, DELETE refused."""
    lead, tok = _world(c)
    r = lead.req("PUT", _p("e", "k1"), {"name": "wrong"}, token=tok["prov"])
    assert r.status == 201, r

    # Filing: existing and missing keys alike; no record_exists for the
    # filer (no existence oracle).
    a = _file(lead, tok, "cit", "k1", "error")
    b = _file(lead, tok, "cit", "nobody", "error")
    assert a["status"] == "open" and a["id"].startswith("ob-"), a
    assert int(a["id"][3:]) == a["revision"] and a["version"] == 1, a
    for x in (a, b):
        assert "record_exists" not in x and x["filer"] == "cit", x
    _file(lead, tok, "cons", "k1", "trade_secret", entry="h", want=404)
    _file(lead, tok, "cit", "k1", "gossip", want=400)
    r = lead.req("POST", "/v1/objections",
                 {"entry": "e", "key": "k1", "kind": "error",
                  "description": "d"})
    assert r.status == 401, r  # syntax first (400), then a principal
    r = lead.req("POST", "/v1/objections",
                 {"entry": "e", "key": "k1", "kind": "error",
                  "description": "d", "status": "accepted"}, token=tok["cit"])
    assert r.status == 400 and r.json["error"]["field"] == "status", r

    # Who sees it: the filer without record_exists, the provider org and
    # the authority with it, others 404.
    for who, code, exists in (("cit", 200, None), ("prov", 200, True),
                              ("dcons", 200, True), ("admin", 200, True),
                              ("aud", 200, True), ("cons", 404, None),
                              ("prov2", 404, None)):
        r = lead.req("GET", "/v1/objections/" + a["id"], token=tok[who])
        assert r.status == code, (who, r)
        if code == 200:
            assert r.json.get("record_exists") is exists, (who, r.json)
    r = lead.req("GET", "/v1/objections/" + b["id"], token=tok["admin"])
    assert r.json["record_exists"] is False, r
    r = lead.req("GET", "/v1/objections/ob-x", token=tok["admin"])
    assert r.status == 400, r
    r = lead.req("GET", "/v1/objections/" + a["id"])
    assert r.status == 401, r

    # Decisions: only the authority, only on open objections. Each
    # refusal is a rejection fact.
    rev0 = lead.status()["revision"]
    _decide(lead, tok, "cit", a["id"], "accept", 403)
    _decide(lead, tok, "prov", a["id"], "accept", 403)
    _decide(lead, tok, "aud", a["id"], "reject", 403)
    _decide(lead, tok, "cons", a["id"], "accept", 404)
    r = lead.req("POST", "/v1/objections/%s/decide" % a["id"],
                 {"decision": "accept"}, token=tok["admin"])
    assert r.status == 400 and r.json["error"]["field"] == "reason", r
    refused = [f for f in _facts(lead, tok, rev0 + 1)
               if f["kind"] == "rejection"]
    assert [f["payload"]["status"] for f in refused] == [403, 403, 403, 404]
    assert all(f["payload"]["command"] == "objection.decide"
               for f in refused), refused
    acc = _decide(lead, tok, "admin", a["id"], "accept")
    assert acc["status"] == "accepted" and acc["version"] == 2, acc
    assert acc["decision"]["decision"] == "accept", acc
    assert acc["decision"]["by"] == "admin", acc
    _decide(lead, tok, "admin", a["id"], "accept", 409)
    _decide(lead, tok, "admin", a["id"], "reject", 409)
    rej = _decide(lead, tok, "admin", b["id"], "reject")
    assert rej["status"] == "rejected", rej
    _decide(lead, tok, "admin", b["id"], "accept", 409)

    # While accepted and unresolved, reads of the record say so.
    r = lead.req("GET", _p("e", "k1"), token=tok["cons"])
    assert r.json["disputed"] is True, r
    assert r.json["disputed_by"] == [a["id"]], r

    # Corrections: a rejected objection resolves nothing; the authority
    # may not correct without an accepted one; the provider's correction
    # naming it resolves it and links the correcting version.
    body = {"value": {"name": "right"}, "reason": "objection upheld",
            "objection": b["id"]}
    r = lead.req("POST", _p("e", "k1", "/correct"), body, token=tok["prov"])
    assert r.status == 409, r
    r = lead.req("POST", _p("e", "k1", "/correct"),
                 {"value": {"name": "x"}, "reason": "r"}, token=tok["admin"])
    assert r.status == 403, r
    body["objection"] = a["id"]
    r = lead.req("POST", _p("e", "k1", "/correct"), body, token=tok["prov"])
    assert r.status == 200 and r.json["op"] == "correct", r
    fixed = r.json
    r = lead.req("GET", "/v1/objections/" + a["id"], token=tok["cit"])
    assert r.json["status"] == "resolved", r
    res = r.json["resolution"]
    assert res["op"] == "correct" and res["by"] == "prov", res
    assert res["revision"] == fixed["revision"], (res, fixed)
    assert res["version"] == fixed["version"] == 2, (res, fixed)
    r = lead.req("GET", _p("e", "k1"), token=tok["cons"])
    assert "disputed" not in r.json and r.json["objection"] == a["id"], r
    r = lead.req("POST", _p("e", "k1", "/correct"), body, token=tok["prov"])
    assert r.status == 409, r

    # An omission names a missing key; accepted, the authority's
    # correction naming it creates the record.
    om = _file(lead, tok, "cit", "forgotten", "omission")
    r = lead.req("POST", _p("e", "forgotten", "/correct"),
                 {"value": {"name": "here"}, "reason": "r",
                  "objection": om["id"]}, token=tok["admin"])
    assert r.status == 403, r  # not accepted yet: no authority write
    _decide(lead, tok, "admin", om["id"], "accept")
    r = lead.req("POST", _p("e", "forgotten", "/correct"),
                 {"value": {"name": "here"}, "reason": "r",
                  "objection": om["id"]}, token=tok["admin"])
    assert r.status == 200 and r.json["version"] == 1, r
    r = lead.req("GET", _p("e", "forgotten"), token=tok["cit"])
    assert r.json["op"] == "correct" and r.json["org"] == "authority", r

    # Lists: what each may see, oldest first, filtered, paged.
    def ids(who, q=""):
        r = lead.req("GET", "/v1/objections" + q, token=tok[who])
        assert r.status == 200, r
        return [x["id"] for x in r.json["items"]], r.json["next"]
    every = [a["id"], b["id"], om["id"]]
    assert ids("admin") == (every, None)
    assert ids("cit") == (every, None)  # all filed by cit
    assert ids("cons") == ([], None)
    assert ids("admin", "?status=resolved") == ([a["id"], om["id"]], None)
    assert ids("admin", "?status=rejected&entry=e") == ([b["id"]], None)
    assert ids("admin", "?kind=omission") == ([om["id"]], None)
    assert ids("admin", "?entry=h") == ([], None)
    page, nxt = ids("admin", "?limit=2")
    assert page == every[:2] and nxt, (page, nxt)
    assert ids("admin", "?limit=2&after=" + nxt) == (every[2:], None)
    for q in ("?status=done", "?limit=0", "?after=x", "?kind=x"):
        r = lead.req("GET", "/v1/objections" + q, token=tok["admin"])
        assert r.status == 400, (q, r)
    r = lead.req("DELETE", "/v1/objections/" + a["id"], token=tok["admin"])
    assert r.status == 405 and r.json["error"]["code"] == "immutable", r
    c.converged()


def _verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = H(b"\x01" + p + r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = H(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _proof_ok(node, tok, rev, leaf_hex, size=None):
    q = "/v1/ledger/proof?consistency=stale&revision=%d" % rev
    if size:
        q += "&tree_size=%d" % size
    r = node.req("GET", q, token=tok["aud"])
    assert r.status == 200, r
    p = r.json
    assert p["leaf_hash"] == leaf_hex, (p, leaf_hex)
    assert _verify_inclusion(p["leaf_index"], p["tree_size"],
                             bytes.fromhex(leaf_hex),
                             [bytes.fromhex(x) for x in p["path"]],
                             bytes.fromhex(p["root"])), p
    return p["root"]


def test_objections_redaction_keeps_hashes(c):
    """Redacting version 1 drops its document and salt on every node;
    its hash, content hash and the chain stay, history and the record's
    reads say redacted, and the Merkle proofs of it and of the rest verify
    against the same roots as before, recomputed here."""
    lead, tok = _world(c)
    mark = "PI-" + secrets.token_hex(12)
    r = lead.req("PUT", _p("e", "p1"), {"name": mark}, token=tok["prov"])
    assert r.status == 201, r
    r = lead.req("PUT", _p("e", "p1"), {"name": "public"}, token=tok["prov"])
    assert r.status == 200, r
    before = lead.req("GET", _p("e", "p1", "/history"), token=tok["aud"]).json
    v1 = before["items"][0]
    assert v1["value"] == {"name": mark}
    raw = json.dumps(v1["value"], sort_keys=True,
                     separators=(",", ":")).encode()
    assert H(b"\x02" + bytes.fromhex(v1["salt"]) + raw).hex() == \
        v1["content_hash"]
    st = c.converged()
    size0, root0 = st["revision"], st["root"]
    assert _proof_ok(lead, tok, v1["revision"], v1["hash"], size0) == root0

    # Not for an error objection, nor an open one, nor by the provider.
    err = _file(lead, tok, "cit", "p1", "error")
    _decide(lead, tok, "admin", err["id"], "accept")
    _redact(lead, tok, "p1", 1, err["id"], want=409)
    pi = _file(lead, tok, "cit", "p1", "personal_information")
    _redact(lead, tok, "p1", 1, pi["id"], want=409)
    _decide(lead, tok, "admin", pi["id"], "accept")
    _redact(lead, tok, "p1", 1, pi["id"], who="prov", want=403)
    _redact(lead, tok, "p1", 7, pi["id"], want=404)
    r = lead.req("POST", _p("e", "p1", "/versions/0/redact"),
                 {"objection": pi["id"], "reason": "r"}, token=tok["admin"])
    assert r.status == 400, r
    red = _redact(lead, tok, "p1", 1, pi["id"]).json
    assert red["redacted"] is True and red["version"] == 1, red
    assert red["content_hash"] == v1["content_hash"], red
    assert red["record_revision"] == v1["revision"], red
    _redact(lead, tok, "p1", 1, pi["id"], want=409)  # already
    r = lead.req("GET", "/v1/objections/" + pi["id"], token=tok["cit"])
    assert r.json["status"] == "resolved", r
    assert r.json["resolution"]["op"] == "redact", r
    assert r.json["resolution"]["revision"] == red["revision"], r

    st = c.converged()
    for node in c.nodes:
        h = node.req("GET", _p("e", "p1", "/history") +
                     "?consistency=stale", token=tok["prov"]).json
        a1, a2 = h["items"]
        assert a1.get("redacted") is True, a1
        assert "value" not in a1 and "salt" not in a1, a1
        for k in ("hash", "content_hash", "revision", "author", "at"):
            assert a1[k] == v1[k], (k, a1, v1)
        assert a2["prev_hash"] == a1["hash"], h
        assert a2["hash"] == before["items"][1]["hash"], h
        g = node.req("GET", _p("e", "p1") + "?version=1&consistency=stale",
                     token=tok["prov"]).json
        assert g["redacted"] is True and "value" not in g, g
        assert mark not in json.dumps(g) + json.dumps(h)
        # The tree up to the old size has the old root; the version's
        # proof verifies in it and in today's tree.
        r = node.req("GET", "/v1/ledger?tree_size=%d" % size0,
                     token=tok["aud"])
        assert r.json["root"] == root0, r
        assert _proof_ok(node, tok, v1["revision"], v1["hash"],
                         size0) == root0
        assert _proof_ok(node, tok, v1["revision"], v1["hash"]) == st["root"]
        assert _proof_ok(node, tok, red["revision"], red["hash"]) == \
            st["root"]

    # The list of redactions: operators, auditors, the provincial
    # authority.
    for who, code in (("admin", 200), ("aud", 200), ("cit", 403),
                      ("prov", 403)):
        r = lead.req("GET", "/v1/redactions", token=tok[who])
        assert r.status == code, (who, r)
    r = lead.req("GET", "/v1/redactions", token=tok["admin"])
    assert r.json["next"] is None and len(r.json["items"]) == 1, r
    it = r.json["items"][0]
    assert (it["entry"], it["key"], it["version"], it["content_hash"],
            it["objection"]) == ("e", "p1", 1, v1["content_hash"],
                                 pi["id"]), it


class Writer:
    """Record writes by prov in a thread until stopped: the write load."""

    def __init__(self, c, tok, prefix):
        self.c, self.tok, self.prefix = c, tok, prefix
        self.done = threading.Event()
        self.count = 0
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        i = 0
        while not self.done.is_set():
            try:
                lead = self.c.leader(timeout=5)
                r = lead.req("PUT", _p("e", "%s%d" % (self.prefix, i % 500)),
                             {"name": "load %d" % i}, token=self.tok["prov"],
                             timeout=5)
                if r.status < 300:
                    self.count += 1
            except (OSError, AssertionError):
                time.sleep(0.05)
            i += 1

    def stop(self):
        self.done.set()
        self.t.join(timeout=30)


def _marked(c, tok, key, n_more=150):
    """A record whose only version holds a fresh marker, then `n_more`
    other writes so that every node snapshots it (threshold 64): the
    marker, and the (entry, key) written."""
    lead = c.leader()
    half = secrets.token_hex(8)
    mark = "PI" + half + half  # repeats: LZ4 hides it from grep
    r = lead.req("PUT", _p("e", key), {"name": "x", "id_number": mark},
                 token=tok["prov"])
    assert r.status == 201, r
    for i in range(n_more):
        r = lead.req("PUT", _p("e", "%s-fill%d" % (key, i)),
                     {"name": "filler %d" % i}, token=tok["prov"])
        assert r.status == 201, r
    c.converged()
    return mark


def _accepted_pi(lead, tok, key):
    pi = _file(lead, tok, "cit", key, "personal_information")
    _decide(lead, tok, "admin", pi["id"], "accept")
    return pi["id"]


def _wait_clean(c, nodes, mark, t0, what):
    """Wait until no file of `nodes` holds `mark`, at most DEADLINE_S
    from `t0`; returns the seconds it took."""
    last = None
    while True:
        hits = [h for x in nodes for h in datascan.find(mark, x.dir)]
        if not hits:
            return time.time() - t0
        last = hits
        if time.time() - t0 > DEADLINE_S:
            raise AssertionError("%s: after %ds still in %s" %
                                 (what, DEADLINE_S, last))
        time.sleep(0.25)


def test_objections_redaction_compacts_under_load(c):
    """Before the redaction the marker is in every node's raft log and
    inside a compressed snapshot frame (where grep would not see it: the
    scanner decompresses them); within 60 s of the redaction answering,
    with writes going on throughout, it is in no file of any node's data
    directory, every node counts a finished compaction and serves the
    version as redacted."""
    lead, tok = _world(c)
    mark = _marked(c, tok, "victim")
    for x in c.nodes:
        where = {w for _, w in datascan.find(mark, x.dir)}
        assert "raw" in where, (x.id, where)  # the log segment
        assert "snapshot-frame" in where, (x.id, where)
    oid = _accepted_pi(lead, tok, "victim")
    w = Writer(c, tok, "load")
    try:
        time.sleep(1)
        _redact(c.leader(), tok, "victim", 1, oid)
        t0 = time.time()
        took = _wait_clean(c, c.nodes, mark, t0, "under load")
        n_during = w.count
    finally:
        w.stop()
    assert n_during > 50, n_during  # the load really ran
    print("    redacted document gone from every data dir in %.1fs "
          "(%d writes meanwhile)" % (took, n_during))
    for x in c.nodes:
        wait_for(lambda: metric(x, "provcat_redaction_compactions_total")
                 >= 1 and metric(x, "provcat_redaction_compaction_pending")
                 == 0, 20, "node %d's compaction" % x.id)
        assert not os.path.exists(os.path.join(x.dir,
                                               "redaction-compaction"))
        g = x.req("GET", _p("e", "victim") + "?version=1&consistency=stale",
                  token=tok["prov"]).json
        assert g["redacted"] is True, g


def test_objections_redaction_compacts_idle(c):
    """The same on an idle cluster: the leader appends empty entries so
    that every node reaches its two snapshots."""
    lead, tok = _world(c)
    mark = _marked(c, tok, "quiet")
    oid = _accepted_pi(lead, tok, "quiet")
    c.converged()
    time.sleep(1)
    _redact(lead, tok, "quiet", 1, oid)
    t0 = time.time()
    took = _wait_clean(c, c.nodes, mark, t0, "idle")
    print("    idle cluster: gone in %.1fs" % took)
    assert metric(c.leader(), "provcat_redaction_compaction_nudges_total") > 0


def test_objections_redaction_lagging_restart_and_crash(c):
    """A node down during the redaction gets it through a snapshot install
    and its files end clean too; then a full restart of every node keeps
    them clean; then a second redaction with every node killed right
    after it answers: restarted, each finishes the compaction (the log
    replays it, or DATA_DIR/redaction-compaction says it was cut short)
    within 60 s."""
    lead, tok = _world(c)
    mark = _marked(c, tok, "lagger")
    oid = _accepted_pi(lead, tok, "lagger")
    lag = [x for x in c.nodes if x is not lead][0]
    lag.stop()
    live = [x for x in c.nodes if x is not lag]
    _redact(c.leader(), tok, "lagger", 1, oid)
    t0 = time.time()
    for i in range(300):  # past the leader's log: lag needs a snapshot
        r = c.leader().req("PUT", _p("e", "after%d" % i), {"name": "a"},
                           token=tok["prov"])
        assert r.status < 300, r
    _wait_clean(c, live, mark, t0, "the live nodes")
    assert any(h for h in datascan.find(mark, lag.dir)), "lag had it"
    lag.start("existing")
    t1 = time.time()
    took = _wait_clean(c, [lag], mark, t1, "the lagging node")
    print("    lagging node clean %.1fs after its restart" % took)
    c.converged(timeout=30)
    assert metric(lag, "provcat_redaction_compactions_started_total") >= 1
    # Its own snapshot at start, then the leader's: an install.
    assert metric(lag, "provcat_snapshot_restores_total") >= 2

    # A full restart: still clean everywhere, still redacted.
    for x in c.nodes:
        assert x.stop() == 0
    for x in c.nodes:
        x.start("existing")
    c.wait_ready()
    st = c.converged(timeout=30)
    assert not [h for x in c.nodes for h in datascan.find(mark, x.dir)]
    for x in c.nodes:
        wait_for(lambda: x.req("GET", "/readyz").status == 200, 20,
                 "node %d ready" % x.id)
        g = x.req("GET", _p("e", "lagger") + "?version=1&consistency=stale",
                  token=tok["prov"]).json
        assert g["redacted"] is True, g

    # A node that stopped mid-way finds DATA_DIR/redaction-compaction at
    # start and compacts (and checks) before removing it.
    x = [n for n in c.nodes if n is not c.leader()][0]  # a follower
    time.sleep(25)  # past the nudging after the restart: only its own
    # reconnection can start the leader nudging again
    assert x.stop() == 0
    marker = os.path.join(x.dir, "redaction-compaction")
    open(marker, "w").close()
    x.start("existing")
    wait_for(lambda: metric(x, "provcat_redaction_compactions_total") >= 1
             and not os.path.exists(marker), DEADLINE_S,
             "the compaction a node owed at start")
    assert metric(x, "provcat_redaction_compactions_started_total") == 1

    # Killed right after a redaction answers.
    mark2 = _marked(c, tok, "crash", n_more=100)
    oid2 = _accepted_pi(c.leader(), tok, "crash")
    c.converged()
    _redact(c.leader(), tok, "crash", 1, oid2)
    for x in c.nodes:
        x.kill()
    assert [h for x in c.nodes for h in datascan.find(mark2, x.dir)]
    for x in c.nodes:
        x.start("existing")
    t2 = time.time()
    c.wait_ready(timeout=30)
    took = _wait_clean(c, c.nodes, mark2, t2, "after kill -9 of every node")
    print("    after kill -9 and restart: clean in %.1fs" % took)
    assert c.converged(timeout=30)["revision"] > st["revision"]
    for x in c.nodes:
        wait_for(lambda: metric(x, "provcat_redaction_compaction_pending")
                 == 0, 30, "node %d done" % x.id)


# The documented procedure (docs/node.md, "Redaction and disks"): fetch
# every page of GET /v1/redactions, one JSON object per line.
FETCH_REDACTIONS = r'''
next=""
: > redactions.json
while :; do
    page=$(curl -sf -H "Authorization: Bearer $TOKEN" \
        "$LEADER/v1/redactions?limit=1000${next:+&after=$next}") || exit 1
    printf '%s\n' "$page" >> redactions.json
    next=$(printf '%s' "$page" | sed -n 's/.*"next":"\([0-9]*\)".*/\1/p')
    [ -n "$next" ] || break
done
'''


def _restore(backup, extra=()):
    """Start a node restoring `backup` into a fresh one-node cluster:
    (cluster, node). `--restore` writes the data dir, then runs the node;
    a refused restore exits."""
    pp, cp = free_ports(2)
    fresh = Cluster(n=1, start=False)
    x = Node(fresh, 1, pp, cp)
    fresh.nodes = [x]
    fresh.spec = ""
    x.start("existing", extra=["--restore", backup] + list(extra))
    return fresh, x


def _log(x):
    with open(x.log, "rb") as f:
        return f.read()


def test_objections_backups_and_restore(c):
    """A backup taken before a redaction holds the document (restored as
    it is, it comes back); one taken after does not; restoring the older
    one with the live cluster's redaction list (fetched by the documented
    procedure, paged) drops it, keeps the root, and leaves it in no file of
    the new data dir; a list from another ledger is refused."""
    lead, tok = _world(c)
    mark = _marked(c, tok, "bk", n_more=10)
    mark2 = _marked(c, tok, "bk2", n_more=10)
    oid = _accepted_pi(lead, tok, "bk")
    oid2 = _accepted_pi(lead, tok, "bk2")
    old = os.path.join(c.dir, "old.snap")
    r = lead.req("GET", "/v1/backup", token=c.token, timeout=60)
    assert r.status == 200, r
    with open(old, "wb") as f:
        f.write(r.body)
    old_rev = int(r.headers["x-provcat-backup-revision"])
    old_root = r.headers["x-provcat-backup-root"]
    assert datascan.snapshot_facts(r.body) == old_rev
    assert "snapshot-frame" in {w for _, w in datascan.find(mark, old)}
    _redact(lead, tok, "bk", 1, oid)
    _redact(lead, tok, "bk2", 1, oid2)
    r = lead.req("GET", "/v1/backup", token=c.token, timeout=60)
    assert r.status == 200, r
    new = os.path.join(c.dir, "new.snap")
    with open(new, "wb") as f:
        f.write(r.body)
    assert datascan.snapshot_facts(r.body) == \
        int(r.headers["x-provcat-backup-revision"])
    assert not datascan.find(mark, new) and not datascan.find(mark2, new)

    # The documented procedure, with pages of one item to page for real.
    env = dict(os.environ, TOKEN=c.token, LEADER=lead.url)
    script = FETCH_REDACTIONS.replace("limit=1000", "limit=1")
    p = subprocess.run(["bash", "-euc", script], cwd=c.dir, env=env,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p
    listing = os.path.join(c.dir, "redactions.json")
    with open(listing) as f:
        pages = [json.loads(line) for line in f if line.strip()]
    assert len(pages) == 2 and pages[0]["next"] and not pages[1]["next"]
    assert [pg["items"][0]["key"] for pg in pages] == ["bk", "bk2"]

    # Restored as it is, the older backup brings the document back.
    fresh, x = _restore(old)
    try:
        wait_for(lambda: (x.status() or {}).get("revision", 0) >= old_rev,
                 20, "restored node")
        assert datascan.find(mark, x.dir)
    finally:
        fresh.close()
    # A list that is not this ledger's is refused (exit 2), nothing
    # written.
    bad = os.path.join(c.dir, "bad.json")
    with open(bad, "w") as f:
        item = dict(pages[0]["items"][0], content_hash="00" * 32)
        f.write(json.dumps({"items": [item], "next": None}) + "\n")
    fresh, x = _restore(old, ["--redactions", bad])
    try:
        assert x.proc.wait(timeout=30) == 2
        assert b"another content hash" in _log(x), _log(x)[-500:]
        assert not os.path.exists(os.path.join(x.dir, "raft"))
    finally:
        fresh.close()
    p = subprocess.run([os.path.abspath(os.path.join(BUILD, "provcat-node")),
                        "--id", "1", "--data-dir", os.path.join(c.dir, "z"),
                        "--peer", "127.0.0.1:1", "--client", "127.0.0.1:2",
                        "--redactions", listing], capture_output=True,
                       timeout=30)
    assert p.returncode == 2 and b"--restore" in p.stderr, p
    # With the list: dropped, same root, nowhere in the new data dir.
    fresh, x = _restore(old, ["--redactions", listing])
    try:
        wait_for(lambda: (x.status() or {}).get("revision", 0) >= old_rev,
                 20, "restored node")
        # Ready: it can judge tokens (until then a token gets 503).
        wait_for(lambda: x.req("GET", "/readyz").status == 200, 20,
                 "restored node ready")
        assert b"2 documents redacted since the backup dropped" in \
            _log(x), _log(x)[-800:]
        assert not datascan.find(mark, x.dir)
        assert not datascan.find(mark2, x.dir)
        r = x.req("GET", "/v1/ledger?tree_size=%d" % old_rev, token=c.token)
        assert r.json["root"] == old_root, r
        r = x.req("GET", _p("e", "bk") + "?version=1", token=c.token)
        assert r.status == 200 and r.json["redacted"] is True, r
        r = x.req("GET", _p("e", "bk-fill3"), token=c.token)
        assert r.json["value"] == {"name": "filler 3"}, r
    finally:
        fresh.close()


SNAP = ["--snapshot-threshold", "64"]


# Time how long a redacted document lingers under load: alone.
SERIAL_TESTS = {"test_objections_redaction_compacts_under_load",
                "test_objections_redaction_compacts_idle",
                "test_objections_redaction_lagging_restart_and_crash"}

TESTS = [
    (test_objections_workflow, {}),
    (test_objections_redaction_keeps_hashes, {}),
    (test_objections_redaction_compacts_under_load, {"extra": SNAP}),
    (test_objections_redaction_compacts_idle, {"extra": SNAP}),
    (test_objections_redaction_lagging_restart_and_crash, {"extra": SNAP}),
    (test_objections_backups_and_restore, {}),
]
