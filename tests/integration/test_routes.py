# SPDX-License-Identifier: MIT
"""One table-driven test per route family on a 3-node cluster: who (the
public, a bogus token, principals of each role) x whether the object
exists -> the status, in the contract's order (docs/rules.md) (400, 401, 404 invisible, 403,
404 missing, 409). Every refused write is a rejection fact in the ledger,
read back through GET /v1/ledger/facts; refused reads append nothing. Also
a node that restarts answers 503, never 401 or 429, to valid tokens until
it can judge them (issue #14)."""
import os
import time

from cluster import (appends_nothing, create_orgs, create_principals, metric,
                     request, wait_for)

BOGUS = "pct_not-a-token-of-this-cluster"


def _world(c):
    """Orgs dept and dept2 (province), cityA and cityB (city authorities);
    principals prov (dept provider), prov2 (dept2 provider), cons (dept2
    consumer), aud (auditor), auth2 (a second provincial authority), ca
    (cityA authority), cit (a citizen). Returns (leader, tokens)."""
    lead = c.leader()
    tok = {"admin": c.token}
    create_orgs(lead, c.token, (("dept", "province", False),
                                ("dept2", "province", False),
                                ("cityA", "city", True),
                                ("cityB", "city", True)))
    create_principals(lead, c.token, (("prov", "dept", ["provider"]),
                                      ("prov2", "dept2", ["provider"]),
                                      ("cons", "dept2", ["consumer"]),
                                      ("aud", "authority", ["auditor"]),
                                      ("auth2", "authority", ["authority"]),
                                      ("ca", "cityA", ["authority"]),
                                      ("cit", None, None)), tok)
    tok[None] = None
    tok["bogus"] = BOGUS
    return lead, tok


def _facts(node, token, since):
    """Every fact after revision `since`, through GET /v1/ledger/facts."""
    out, frm = [], since + 1
    while True:
        r = node.req("GET", "/v1/ledger/facts?from=%d&limit=1000" % frm,
                     token=token)
        assert r.status == 200, r
        out.extend(r.json["items"])
        if r.json["next"] is None:
            return out
        frm = int(r.json["next"])


def _revision(node):
    return node.status()["revision"]


def _expect(c, node, who, tok, method, path, body, want, command=None):
    """Send the request as `who`; assert the status. A refused write
    (`command` given, status 403/404/400/409) must have appended its
    rejection fact: kind rejection, by `who`, with the status, code and
    message of the answer, for `command`. Any other refusal (401, a read)
    must have appended nothing of its own."""
    before = _revision(node)
    r = node.req(method, path, body, token=tok[who])
    assert r.status == want, (who, method, path, want, r)
    if want < 400:
        return r
    facts = [f for f in _facts(node, c.token, before)
             if f["kind"] == "rejection"]
    mine = [f for f in facts
            if f["principal"] == (who or "") and
            f["payload"]["status"] == want and
            f["payload"]["message"] == r.json["error"]["message"]]
    if command is not None and want != 401:
        assert len(mine) == 1, (who, method, path, want, facts)
        assert mine[0]["payload"]["command"] == command, mine
        assert mine[0]["payload"]["code"] == r.json["error"]["code"], mine
    else:
        assert mine == [], (who, method, path, "appended", mine)
    return r


def test_routes_health_family(c):
    """Health, readiness, metrics and status: anyone, a bogus token
    ignored (nothing to judge), on any node, never redirected."""
    lead = c.leader()
    fol = [x for x in c.nodes if x is not lead][0]
    for node in (lead, fol):
        wait_for(lambda: node.req("GET", "/readyz").status == 200, 10,
                 "readyz on node %d" % node.id)
        for path in ("/healthz", "/readyz", "/metrics", "/v1/status"):
            for token in (None, BOGUS, c.token):
                r = node.req("GET", path, token=token)
                assert r.status == 200, (node.id, path, token, r)
    assert metric(fol, "provcat_auth_failures_total") == 0
    assert metric(fol, "provcat_auth_ready") == 1


def test_routes_ledger_family(c):
    """The ledger's root and proofs need any principal (401 for the public
    and a bogus token); its facts need an operator, an auditor or the
    provincial authority (a refused read appends nothing); a backup is an
    operation apply decides: a rejection fact when refused, an operation
    fact when taken."""
    lead, tok = _world(c)
    rev = _revision(lead)
    reads = ["/v1/ledger", "/v1/ledger?tree_size=%d" % rev,
             "/v1/ledger/proof?revision=1&tree_size=%d" % rev,
             "/v1/ledger/consistency?from=1&to=%d" % rev]
    for path in reads:
        for who, want in ((None, 401), ("bogus", 401), ("cons", 200),
                          ("cit", 200), ("admin", 200)):
            _expect(c, lead, who, tok, "GET", path, None, want)
    # Syntax first: 400 before 401.
    r = lead.req("GET", "/v1/ledger/proof?revision=x")
    assert r.status == 400, r
    for who, want in ((None, 401), ("bogus", 401), ("cons", 403),
                      ("prov", 403), ("ca", 403), ("aud", 200),
                      ("auth2", 200), ("admin", 200)):
        appends_nothing(lead, lambda: _expect(
            c, lead, who, tok, "GET", "/v1/ledger/facts?from=1&limit=2",
            None, want))
    r = lead.req("GET", "/v1/ledger/facts?from=1&limit=2", token=tok["aud"])
    assert [f["kind"] for f in r.json["items"]] == ["cluster", "org"], r
    assert r.json["next"] == "3", r
    # Backups: the operator role, decided in apply.
    for who, want in ((None, 401), ("bogus", 401), ("cons", 403),
                      ("aud", 403), ("auth2", 403)):
        _expect(c, lead, who, tok, "GET", "/v1/backup", None, want,
                command="operation")
    before = _revision(lead)
    r = lead.req("GET", "/v1/backup", token=tok["admin"], timeout=30)
    assert r.status == 200, r
    ops = [f for f in _facts(lead, c.token, before)
           if f["kind"] == "operation"]
    assert len(ops) == 1 and ops[0]["principal"] == "admin", ops
    assert ops[0]["payload"] == {"op": "backup"}, ops
    assert int(r.headers["x-provcat-backup-revision"]) >= ops[0]["revision"]


def test_routes_cluster_family(c):
    """Membership and leadership: the operator role is decided in apply
    (403 as a rejection fact, before any 404 of a missing member); then
    the node answers what depends on raft's configuration (404 no such
    member, 409 too few voters left)."""
    lead, tok = _world(c)
    fol = [x for x in c.nodes if x is not lead][0]
    add = {"id": 9, "address": "127.0.0.1:1", "client_url": "http://x:1"}
    cases = [
        ("POST", "/v1/members", add),
        ("DELETE", "/v1/members/99", None),
        ("DELETE", "/v1/members/%d" % fol.id, None),
        ("POST", "/v1/leader/transfer", {"id": fol.id}),
        ("POST", "/v1/leader/transfer", {"id": 99}),
    ]
    for method, path, body in cases:
        for who in (None, "bogus"):
            _expect(c, lead, who, tok, method, path, body, 401)
        for who in ("cons", "aud", "auth2", "ca", "prov"):
            _expect(c, lead, who, tok, method, path, body, 403,
                    command="operation")
    # Syntax first, whoever asks.
    r = lead.req("DELETE", "/v1/members/x")
    assert r.status == 400, r
    r = lead.req("POST", "/v1/members", {"id": 0}, token=tok["cons"])
    assert r.status == 400, r
    # A follower redirects.
    wait_for(lambda: ((fol.status() or {}).get("leader") or {})
             .get("client_url") == lead.url, 10, "leader URL on follower")
    r = fol.req("DELETE", "/v1/members/99", token=tok["admin"])
    assert r.status == 307, r
    # The operator: allowed in apply (an operation fact), then the node.
    for method, path, body, want in (
            ("DELETE", "/v1/members/99", None, 404),
            ("DELETE", "/v1/members/%d" % fol.id, None, 409),
            ("POST", "/v1/leader/transfer", {"id": 99}, 404)):
        before = _revision(lead)
        r = lead.req(method, path, body, token=tok["admin"])
        assert r.status == want, (method, path, r)
        ops = [f for f in _facts(lead, c.token, before)
               if f["kind"] == "operation"]
        assert len(ops) == 1 and ops[0]["principal"] == "admin", ops
    before = _revision(lead)
    r = lead.req("POST", "/v1/leader/transfer", {"id": fol.id},
                 token=tok["admin"])
    assert r.status == 200 and r.json["leader"]["id"] == fol.id, r
    ops = [f for f in _facts(fol, c.token, before)
           if f["kind"] == "operation"]
    assert ops[0]["payload"] == {"op": "leader.transfer", "node": fol.id}


def _org(oid, parent="authority", level="province", authority=False):
    return {"id": oid, "name": oid, "level": level, "kind": "agency",
            "parent": parent, "authority": authority}


def test_routes_orgs_family(c):
    """Creating orgs: role and scope decided in apply, so every refusal is
    a rejection fact; reads need any principal."""
    lead, tok = _world(c)
    table = [
        # who, body, status
        ("cons", _org("o1"), 403),
        ("cons", _org("o2", parent="nosuch"), 403),
        ("prov", _org("o3"), 403),
        ("aud", _org("o4"), 403),
        ("ca", _org("o5", parent="cityB", level="county"), 403),
        ("ca", _org("o6", parent="cityA", level="county"), 201),
        ("ca", _org("o7", parent="nosuch", level="county"), 400),
        ("admin", _org("o8", parent="nosuch"), 400),
        ("admin", _org("o8"), 201),
        ("auth2", _org("o8"), 409),
    ]
    for who in (None, "bogus"):
        _expect(c, lead, who, tok, "POST", "/v1/orgs", _org("o0"), 401)
    for who, body, want in table:
        _expect(c, lead, who, tok, "POST", "/v1/orgs", body, want,
                command="org.create")
    r = lead.req("POST", "/v1/orgs", {"id": "bad id!"}, token=tok["cons"])
    assert r.status == 400, r
    for who, path, want in ((None, "/v1/orgs", 401), ("bogus", "/v1/orgs", 401),
                            ("cit", "/v1/orgs", 200),
                            ("cons", "/v1/orgs/o8", 200),
                            ("cons", "/v1/orgs/nosuch", 404)):
        appends_nothing(lead, lambda: _expect(c, lead, who, tok, "GET", path,
                                              None, want))


def test_routes_principals_family(c):
    """Principals: a principal the caller neither is nor manages is
    answered like a missing one (404, so ids cannot be probed); one it is
    but does not manage, 403; all decided in apply, as rejection facts."""
    lead, tok = _world(c)
    create = {"id": "np", "org": "dept", "roles": ["consumer"]}
    for who in (None, "bogus"):
        _expect(c, lead, who, tok, "POST", "/v1/principals", create, 401)
    table = [
        ("cons", create, 403),
        ("prov", create, 403),
        ("ca", create, 403),
        ("admin", {"id": "np2", "org": "nosuch", "roles": ["consumer"]}, 400),
        ("ca", {"id": "np4", "org": "cityA", "roles": ["operator"]}, 403),
        ("admin", create, 201),
        ("auth2", create, 409),
    ]
    for who, body, want in table:
        _expect(c, lead, who, tok, "POST", "/v1/principals", body, want,
                command="principal.create")
    # Revoke and reissue: who x target.
    table = [
        # who, target, action, status
        ("cons", "prov", "revoke", 404),     # exists, not its business
        ("cons", "nosuch", "revoke", 404),   # missing: the same answer
        ("ca", "prov", "revoke", 404),       # outside cityA
        ("cons", "cons", "revoke", 403),     # itself: it knows it exists
        ("admin", "nosuch", "revoke", 404),
        ("cons", "prov", "token", 404),
        ("cons", "nosuch", "token", 404),
        ("ca", "nosuch", "token", 404),
        ("admin", "nosuch", "token", 404),
    ]
    for who in (None, "bogus"):
        _expect(c, lead, who, tok, "POST", "/v1/principals/prov/revoke",
                None, 401)
    for who, target, action, want in table:
        _expect(c, lead, who, tok, "POST",
                "/v1/principals/%s/%s" % (target, action), None, want,
                command="principal." + action)
    r = lead.req("POST", "/v1/principals/cons/token", token=tok["cons"])
    assert r.status == 200 and r.json["token"], r
    tok["cons"] = r.json["token"]
    r = lead.req("POST", "/v1/principals/np/revoke", token=tok["admin"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/principals/bad%20id/revoke", token=tok["admin"])
    assert r.status == 400, r
    for who, want in ((None, 401), ("bogus", 401), ("cit", 200)):
        appends_nothing(lead, lambda: _expect(c, lead, who, tok, "GET",
                                              "/v1/whoami", None, want))


def _entry(eid, provider="dept", share="unconditional", open_="none"):
    return {"id": eid, "title": eid, "description": "", "provider": provider,
            "theme": "t", "keywords": [],
            "fields": [{"name": "name", "type": "string", "required": True}],
            "share": {"class": share, "conditions": "", "basis": "art. 18"},
            "open": {"class": open_, "conditions": ""},
            "update_frequency": "daily", "security_level": 2,
            "scope": "province"}


def test_routes_catalog_family(c):
    """Catalog writes: no role is checked before proposing, so a consumer
    submitting a missing entry gets apply's 404 (not 403) and the refusal
    is a fact; an entry the caller may not see is 404 too; one it sees
    but may not change, 403."""
    lead, tok = _world(c)
    r = lead.req("POST", "/v1/catalog", _entry("pub"), token=tok["prov"])
    assert r.status == 201, r
    assert lead.req("POST", "/v1/catalog/pub/submit",
                    token=tok["prov"]).status == 200
    assert lead.req("POST", "/v1/catalog/pub/review", {"decision": "approve"},
                    token=tok["admin"]).status == 200
    r = lead.req("POST", "/v1/catalog", _entry("draft", share="none"),
                 token=tok["prov"])
    assert r.status == 201, r
    review = {"decision": "approve"}
    retire = {"reason": "gone"}
    table = [
        # who, method, path, body, status, command
        ("cons", "POST", "/v1/catalog/nosuch/submit", None, 404,
         "entry.submit"),
        ("cons", "POST", "/v1/catalog/draft/submit", None, 404,
         "entry.submit"),           # a draft of another org: invisible
        ("cons", "POST", "/v1/catalog/pub/submit", None, 403,
         "entry.submit"),           # visible, not its to change
        ("prov2", "POST", "/v1/catalog/pub/retire", retire, 403,
         "entry.retire"),
        ("cons", "POST", "/v1/catalog/nosuch/review", review, 404,
         "entry.review"),
        ("prov", "POST", "/v1/catalog/draft/review", review, 403,
         "entry.review"),           # its own org: not a reviewer
        ("admin", "POST", "/v1/catalog/draft/review", review, 409,
         "entry.review"),           # a draft is not under review
        ("cons", "POST", "/v1/catalog", _entry("c1"), 403, "entry.create"),
        ("cons", "POST", "/v1/catalog", _entry("c2", provider="nosuch"), 400,
         "entry.create"),           # apply: no such provider org
        ("prov", "POST", "/v1/catalog", _entry("pub"), 409, "entry.create"),
        ("prov", "POST", "/v1/catalog/draft/submit", None, 200, None),
    ]
    for who in (None, "bogus"):
        _expect(c, lead, who, tok, "POST", "/v1/catalog/nosuch/submit", None,
                401)
    for who, method, path, body, want, command in table:
        _expect(c, lead, who, tok, method, path, body, want, command=command)
    # PUT: a stale If-Match is apply's 409 with the current version.
    body = _entry("pub")
    before = _revision(lead)
    r = lead.req("PUT", "/v1/catalog/pub", body, token=tok["prov"],
                 headers={"If-Match": '"1"'})
    assert r.status == 409 and r.json["error"]["current_version"] == 3, r
    rej = [f for f in _facts(lead, c.token, before) if f["kind"] == "rejection"]
    assert len(rej) == 1 and rej[0]["payload"]["detail"] == {
        "current_version": 3}, rej
    r = lead.req("PUT", "/v1/catalog/pub", body, token=tok["prov"])
    assert r.status == 400, r  # If-Match required: syntax, nothing appended
    # Reads: visibility, nothing appended; the public may read the list.
    for who, path, want in ((None, "/v1/catalog/draft", 404),
                            ("cons", "/v1/catalog/draft", 404),
                            ("prov", "/v1/catalog/draft", 200),
                            ("cons", "/v1/catalog/pub", 200),
                            (None, "/v1/catalog/pub", 404),  # open: none
                            ("bogus", "/v1/catalog", 401),
                            (None, "/v1/catalog", 200),
                            ("cons", "/v1/catalog/pub/history", 200),
                            ("cons", "/v1/catalog/draft/history", 404)):
        appends_nothing(lead, lambda: _expect(c, lead, who, tok, "GET", path,
                                              None, want))


def test_routes_records_family(c):
    """Record writes: apply decides (404 for an entry the writer may not
    see, 403 for one it sees but does not provide), as rejection facts;
    reads decide on the entry before any key (403 for every key)."""
    lead, tok = _world(c)
    for eid, share in (("rpub", "unconditional"), ("rnone", "none")):
        assert lead.req("POST", "/v1/catalog", _entry(eid, share=share),
                        token=tok["prov"]).status == 201
        assert lead.req("POST", "/v1/catalog/%s/submit" % eid,
                        token=tok["prov"]).status == 200
        r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                     {"decision": "approve", "override_duplicate": True,
                      "reason": "same fields"}, token=tok["admin"])
        assert r.status == 200, r
    doc = {"name": "x"}
    table = [
        ("cons", "PUT", "/v1/catalog/nosuch/records/k", doc, 404,
         "record.put"),
        ("cons", "PUT", "/v1/catalog/rpub/records/k", doc, 403, "record.put"),
        ("prov2", "PUT", "/v1/catalog/rpub/records/k", doc, 403,
         "record.put"),
        ("prov", "PUT", "/v1/catalog/nosuch/records/k", doc, 404,
         "record.put"),
        ("cons", "POST", "/v1/catalog/rpub/records:batch",
         {"records": [{"key": "b", "value": doc}]}, 403, "record.batch2"),
        ("cons", "POST", "/v1/catalog/rpub/records/k/retire",
         {"reason": "r"}, 403, "record.retire"),
        ("prov", "PUT", "/v1/catalog/rpub/records/k", doc, 201, None),
        ("prov", "POST", "/v1/catalog/rpub/records/nokey/retire",
         {"reason": "r"}, 404, "record.retire"),
    ]
    for who in (None, "bogus"):
        _expect(c, lead, who, tok, "PUT", "/v1/catalog/rpub/records/k", doc,
                401)
    for who, method, path, body, want, command in table:
        _expect(c, lead, who, tok, method, path, body, want, command=command)
    r = lead.req("PUT", "/v1/catalog/rpub/records/k", [1], token=tok["cons"])
    assert r.status == 400, r  # syntax before anything else
    for who, path, want in (
            ("cons", "/v1/catalog/rnone/records/k", 403),
            ("cons", "/v1/catalog/rnone/records/nokey", 403),
            ("cons", "/v1/catalog/nosuch/records/k", 404),
            ("cons", "/v1/catalog/rpub/records/k", 200),
            ("cons", "/v1/catalog/rpub/records/nokey", 404),
            (None, "/v1/catalog/rpub/records/k", 404),  # open: none
            ("bogus", "/v1/catalog/rpub/records/k", 401),
            ("prov", "/v1/catalog/rnone/records", 200)):
        _expect(c, lead, who, tok, "GET", path, None, want)


def _hammer(node, token, seconds):
    """GET /v1/whoami?consistency=stale as fast as one client can for
    `seconds`; the statuses seen (connection errors are skipped)."""
    seen = {}
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            r = request(node.url, "GET", "/v1/whoami?consistency=stale",
                        token=token, timeout=2)
        except OSError:
            continue
        seen[r.status] = seen.get(r.status, 0) + 1
    return seen


def test_routes_restart_judges_tokens(c):
    """A restarted node knows the principals created since its last
    snapshot only once it has replayed its log: until then it answers 503
    to tokens, never 401 (nor 429 from those 401s), and counts no
    authentication failure (issue #14)."""
    lead = c.leader()
    toks = [c.token]
    for i in range(3):
        r = lead.req("POST", "/v1/principals",
                     {"id": "h%d" % i, "org": "authority",
                      "roles": ["consumer"]}, token=c.token)
        assert r.status == 201, r
        toks.append(r.json["token"])
    c.converged()
    for rnd in range(2):
        x = [n for n in c.nodes if n is not c.leader()][rnd]
        assert x.stop() == 0
        x.start("existing")
        seen = {}
        t0 = time.time()
        for tok in toks * 3:
            for k, v in _hammer(x, tok, 0.4).items():
                seen[k] = seen.get(k, 0) + v
            if time.time() - t0 > 4:
                break
        assert 401 not in seen and 429 not in seen, seen
        assert seen.get(200, 0) > 0, seen
        assert set(seen) <= {200, 503}, seen
        assert metric(x, "provcat_auth_failures_total") == 0
        with open(os.path.join(x.dir, "security.log")) as f:
            assert "auth_failure" not in f.read()
        print("    restart %d: %s" % (rnd, seen))
    # A token it does not know, once it can judge, is still 401.
    r = x.req("GET", "/v1/whoami?consistency=stale", token=BOGUS)
    assert r.status == 401, r



# Hammers a restarting node from its first millisecond: alone.
SERIAL_TESTS = {"test_routes_restart_judges_tokens"}

TESTS = [
    (test_routes_health_family, {}),
    (test_routes_ledger_family, {}),
    (test_routes_cluster_family, {}),
    (test_routes_orgs_family, {}),
    (test_routes_principals_family, {}),
    (test_routes_catalog_family, {}),
    (test_routes_records_family, {}),
    (test_routes_restart_judges_tokens, {}),
]
