# SPDX-License-Identifier: MIT
"""Reports, the audit log and security events over HTTP on a 3-node
cluster: GET /v1/quality (counts, timeliness, completeness through a
change of required fields, refused writes by code, open objections, who
may ask for which entry, paging, the same answer from a follower),
GET /v1/evaluation (per org and overall: entries by class, share and open
requests, grants), GET /v1/audit (every filter against the whole log,
paging, reads of the log audited in turn, leader only, who may ask) and
GET /v1/security-events (after 401s, a 429, 403s and malformed requests:
client, principal and route, newest first, filters, paging across a
rotated file, node-local, redirected to another member, counted in
/metrics)."""
import http.client
import json
import os
import socket
import time
import urllib.parse

from cluster import Response, create_orgs, create_principals, wait_for

# Failed logins come from this address (still the loopback), so that the
# limiter it trips leaves 127.0.0.1's requests alone.
BAD_CLIENT = "127.0.0.2"

FIELDS = [{"name": "name", "type": "string", "required": True}]


def _entry(eid, share, open_, freq, fields=FIELDS):
    return {"id": eid, "title": "title " + eid, "provider": "dept",
            "fields": fields, "share": {"class": share},
            "open": {"class": open_}, "update_frequency": freq,
            "security_level": 2, "scope": "province"}


def _world(c):
    """Orgs dept (provider) and dept2; principals prov (dept provider),
    prov2 (dept2 provider), cons (dept2 consumer), aud (auditor), cit
    (citizen). Entries e (unconditional, daily) and s (conditional,
    weekly), both published. Returns (leader, tokens)."""
    lead = c.leader()
    tok = {"admin": c.token}
    create_orgs(lead, c.token, ("dept", "dept2"))
    create_principals(lead, c.token, (("prov", "dept", ["provider"]),
                                      ("prov2", "dept2", ["provider"]),
                                      ("cons", "dept2", ["consumer"]),
                                      ("aud", "authority", ["auditor"]),
                                      ("cit", None, None)), tok)
    for body in (_entry("e", "unconditional", "unconditional", "daily"),
                 _entry("s", "conditional", "conditional", "weekly")):
        r = lead.req("POST", "/v1/catalog", body, token=tok["prov"])
        assert r.status == 201, r
        _publish(lead, tok, body["id"])
    return lead, tok


def _publish(lead, tok, eid):
    r = lead.req("POST", "/v1/catalog/%s/submit" % eid, token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                 {"decision": "approve"}, token=tok["admin"])
    assert r.status == 200, r


def _rec(eid, key):
    return "/v1/catalog/%s/records/%s" % (eid, urllib.parse.quote(key, ""))


def _all_pages(node, path, token, limit):
    """Every page of a list, following `next`; (items, pages)."""
    items, after, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        q = "%s%slimit=%d" % (path, sep, limit)
        if after is not None:
            q += "&after=" + urllib.parse.quote(after)
        r = node.req("GET", q, token=token)
        assert r.status == 200, (q, r)
        assert len(r.json["items"]) <= limit
        items += r.json["items"]
        pages += 1
        after = r.json["next"]
        if after is None:
            return items, pages
        assert pages < 1000


def _quality(node, tok, who="aud", query=""):
    r = node.req("GET", "/v1/quality" + query, token=tok[who])
    assert r.status == 200, r
    return {x["entry"]: x for x in r.json["items"]}


def test_reports_quality_and_evaluation(c):
    """Quality per entry from the counters, exactly; who may ask; paging;
    a follower's stale answer equals the leader's; completeness recounted
    after a change of required fields; the evaluation per org and
    overall after share and open requests."""
    lead, tok = _world(c)
    for key, doc in (("k1", {"name": "a"}), ("k1", {"name": "b"}),
                     ("k2", {"name": "c"})):
        r = lead.req("PUT", _rec("e", key), doc, token=tok["prov"])
        assert r.status in (200, 201), r
    r = lead.req("POST", _rec("e", "k2") + "/retire", {"reason": "gone"},
                 token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("PUT", _rec("e", "k3"), {"other": 1}, token=tok["prov"])
    assert r.status == 422, r
    r = lead.req("PUT", _rec("e", "k1"), {"name": "x"}, token=tok["prov"],
                 headers={"If-None-Match": "*"})
    assert r.status == 409, r
    r = lead.req("PUT", _rec("e", "k1"), {"name": "x"}, token=tok["prov2"])
    assert r.status == 403, r
    r = lead.req("POST", "/v1/objections",
                 {"entry": "e", "key": "k1", "kind": "error",
                  "description": "wrong"}, token=tok["cit"])
    assert r.status == 201, r

    q = _quality(lead, tok)
    assert set(q) == {"e", "s"}, q
    e = q["e"]
    assert (e["records"], e["retired"], e["versions"]) == (1, 1, 4), e
    assert e["timeliness"] == "on_time" and e["update_frequency"] == "daily"
    assert e["completeness"] == 1.0 and e["complete_records"] == 1, e
    assert e["unchecked_records"] == 0, e
    assert e["completeness_as_of"] == int(r.headers["x-provcat-revision"]) \
        or e["completeness_as_of"] >= e["last_write_revision"], e
    assert e["rejected_writes"] == {"invalid": 1, "conflict": 1,
                                    "forbidden": 1}, e
    assert e["rejected_writes_total"] == 3, e
    assert e["open_objections"] == 1, e
    assert e["provider"] == "dept" and e["status"] == "published", e
    assert q["s"]["timeliness"] == "never" and q["s"]["records"] == 0, q
    assert q["s"]["last_write"] is None and q["s"]["completeness"] is None

    # The last write is the retirement's time, in the answers' format.
    r = lead.req("GET", _rec("e", "k2"), token=tok["prov"])
    assert r.status == 200 and e["last_write"] == r.json["at"], (e, r)

    # Who may ask for what.
    assert set(_quality(lead, tok, "prov")) == {"e", "s"}
    assert set(_quality(lead, tok, "admin")) == {"e", "s"}
    assert _quality(lead, tok, "prov2") == {}  # no entry of its own
    r = lead.req("GET", "/v1/quality?entry=e", token=tok["prov"])
    assert r.status == 200 and len(r.json["items"]) == 1, r
    r = lead.req("GET", "/v1/quality?entry=e", token=tok["prov2"])
    assert r.status == 403, r
    r = lead.req("GET", "/v1/quality?entry=nope", token=tok["aud"])
    assert r.status == 404, r
    r = lead.req("GET", "/v1/quality?provider=dept", token=tok["prov2"])
    assert r.status == 403, r
    r = lead.req("GET", "/v1/quality", token=tok["cit"])
    assert r.status == 403, r
    r = lead.req("GET", "/v1/quality")
    assert r.status == 401, r
    r = lead.req("GET", "/v1/quality?entry=%20x", token=tok["aud"])
    assert r.status == 400, r
    r = lead.req("GET", "/v1/quality?limit=0", token=tok["aud"])
    assert r.status == 400, r
    items, pages = _all_pages(lead, "/v1/quality", tok["aud"], 1)
    assert [x["entry"] for x in items] == ["e", "s"] and pages == 2, items
    assert _quality(lead, tok, "aud", "?provider=dept2") == {}

    # A follower answers the same from its applied state.
    st = c.converged()
    fol = next(x for x in c.nodes if x.status()["state"] != "leader")
    r = fol.req("GET", "/v1/quality?consistency=stale&min_revision=%d" %
                st["revision"], token=tok["aud"])
    assert r.status == 200, r
    fq = {x["entry"]: x for x in r.json["items"]}
    lq = _quality(lead, tok)
    for k in ("records", "retired", "versions", "last_write", "timeliness",
              "complete_records", "rejected_writes", "open_objections"):
        assert fq["e"][k] == lq["e"][k], (k, fq["e"], lq["e"])
    r = fol.req("GET", "/v1/quality", token=tok["aud"])
    assert r.status == 307, r

    # A new required field: k1 lacks it; the recount says so.
    body = _entry("e", "unconditional", "unconditional", "daily",
                  FIELDS + [{"name": "age", "type": "integer",
                             "required": True}])
    r = lead.req("GET", "/v1/catalog/e", token=tok["prov"])
    r = lead.req("PUT", "/v1/catalog/e", body, token=tok["prov"],
                 headers={"If-Match": '"%d"' % r.json["version"]})
    assert r.status == 200, r
    r = lead.req("POST", "/v1/catalog/e/review", {"decision": "approve"},
                 token=tok["admin"])
    assert r.status == 200, r

    def recounted():
        x = _quality(lead, tok, query="?entry=e")["e"]
        return x if x["unchecked_records"] == 0 else None
    e = wait_for(recounted, 10, "the completeness recount")
    assert e["completeness"] == 0.0 and e["complete_records"] == 0, e
    assert e["completeness_as_of"] is not None, e
    r = lead.req("PUT", _rec("e", "k1"), {"name": "y", "age": 3},
                 token=tok["prov"])
    assert r.status == 200, r
    e = _quality(lead, tok, query="?entry=e")["e"]
    assert e["completeness"] == 1.0 and e["records"] == 1, e
    for x in c.nodes:
        wait_for(lambda: x.req("GET", "/metrics").body.find(
            b"provcat_reports_recount_pending 0") >= 0, 10, "recounts over")

    # Sharing and open data, for the evaluation.
    r = lead.req("POST", "/v1/share-requests",
                 {"entry": "s", "purpose": "duty", "days": 30},
                 token=tok["cons"])
    assert r.status == 201, r
    sr = r.json["id"]
    r = lead.req("POST", "/v1/share-requests/%s/decide" % sr,
                 {"decision": "approve"}, token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/share-requests/%s/decide" % sr,
                 {"decision": "approve"}, token=tok["admin"])
    assert r.status == 200, r
    ors = []
    for _ in range(2):
        r = lead.req("POST", "/v1/open-requests",
                     {"entry": "s", "applicant": "me", "data_type": "t",
                      "description": "d", "purpose": "p"}, token=tok["cit"])
        assert r.status == 201, r
        ors.append(r.json["id"])
    r = lead.req("POST", "/v1/open-requests/%s/decide" % ors[0],
                 {"decision": "approve"}, token=tok["prov"])
    assert r.status == 200, r

    r = lead.req("GET", "/v1/evaluation", token=tok["aud"])
    assert r.status == 200, r
    ev = r.json
    o = ev["overall"]
    assert o["entries"] == {"total": 2,
                            "share": {"none": 0, "conditional": 1,
                                      "unconditional": 1},
                            "open": {"none": 0, "conditional": 1,
                                     "unconditional": 1}}, o
    assert o["share_requests"]["approved"] == 1, o
    assert o["share_requests"]["total"] == 1, o
    assert o["share_requests"]["median_decision_ms"] is not None, o
    assert (o["open_requests"]["pending"], o["open_requests"]["approved"],
            o["open_requests"]["total"], o["open_requests"]["overdue"]) == \
        (1, 1, 2, 0), o
    assert o["open_requests"]["median_response_days"] == 0, o
    assert o["grants"]["active"] == 1, o
    rows = {x["org"]: x for x in ev["orgs"]}
    assert set(rows) == {"authority", "dept", "dept2"}, rows
    assert rows["dept"]["entries"]["total"] == 2
    assert rows["dept"]["grants"]["active"] == 1
    assert rows["dept"]["share_requests"]["approved"] == 1
    assert rows["dept"]["open_requests"]["total"] == 2
    assert rows["dept2"]["share_requests_made"]["approved"] == 1
    assert rows["dept2"]["grants_held"]["active"] == 1
    assert rows["dept2"]["entries"]["total"] == 0
    r = lead.req("GET", "/v1/evaluation?org=dept2", token=tok["admin"])
    assert r.status == 200 and [x["org"] for x in r.json["orgs"]] == \
        ["dept2"], r
    r = lead.req("GET", "/v1/evaluation?org=nope", token=tok["aud"])
    assert r.status == 404, r
    r = lead.req("GET", "/v1/evaluation?org=%20", token=tok["aud"])
    assert r.status == 400, r
    for who in ("prov", "cons", "cit"):
        r = lead.req("GET", "/v1/evaluation", token=tok[who])
        assert r.status == 403, (who, r)


def _audit(node, tok, who="aud", query="", limit=1000):
    items, _ = _all_pages(node, "/v1/audit" + query, tok[who], limit)
    return items


def test_reports_audit(c):
    """The audit log: write facts and read events in ledger order; each
    filter gives what filtering the whole log here gives; small pages
    give the same; reads of the log are audited; leader only; who may
    ask; bad parameters."""
    lead, tok = _world(c)
    for i in range(5):
        r = lead.req("PUT", _rec("e", "k%d" % i), {"name": "n%d" % i},
                     token=tok["prov"])
        assert r.status == 201, r
    t_mid = lead.req("GET", "/v1/ledger", token=tok["aud"]).headers[
        "x-provcat-time"]
    time.sleep(0.05)
    for i in range(3):
        r = lead.req("GET", _rec("e", "k%d" % i), token=tok["cons"])
        assert r.status == 200, r
    r = lead.req("GET", "/v1/catalog/e/records", token=tok["cit"])
    assert r.status == 200, r
    r = lead.req("PUT", _rec("e", "k9"), {"x": 1}, token=tok["prov"])
    assert r.status == 422, r

    def reads_in():
        ev = _audit(lead, tok, query="?principal=cons")
        return ev if len(ev) == 3 else None
    reads = wait_for(reads_in, 10, "the read events' audit fact")
    for i, x in enumerate(reads):
        assert (x["action"], x["entry"], x["key"], x["org"], x["version"]) \
            == ("record.read", "e", "k%d" % i, "dept2", 1), x
        assert "." in x["id"] and x["fact_revision"] == int(
            x["id"].split(".")[0]), x

    everything = _audit(lead, tok)
    ids = [x["id"] for x in everything]
    assert len(ids) == len(set(ids))
    revs = [(int(x["id"].split(".")[0]),
             int(x["id"].split(".")[1]) if "." in x["id"] else 0)
            for x in everything]
    assert revs == sorted(revs), "ledger order"
    paged = _audit(lead, tok, limit=7)  # later: audit.read events more
    assert paged[:len(everything)] == everything

    def check(query, pred):
        got = _audit(lead, tok, query=query)
        want = [x for x in _audit(lead, tok) if pred(x)]
        # The log grows by the audit.read events of these very reads:
        # compare up to the last event the filtered answer holds.
        want = [x for x in want if x["fact_revision"] <=
                (got[-1]["fact_revision"] if got else 0)]
        assert got == want, (query, got, want)
        return got

    got = check("?action=record", lambda x: x["action"] == "record")
    assert [x.get("key") for x in got] == ["k%d" % i for i in range(5)]
    assert all(x["principal"] == "prov" and x["org"] == "dept" and
               x["version"] == 1 for x in got), got
    got = check("?action=rejection", lambda x: x["action"] == "rejection")
    assert got[-1]["code"] == "invalid" and got[-1]["status"] == 422, got
    assert got[-1]["command"] == "record.put" and got[-1]["key"] == "k9"
    check("?entry=e", lambda x: x.get("entry") == "e")
    check("?org=dept2", lambda x: x["org"] == "dept2")
    check("?principal=cit", lambda x: x["principal"] == "cit")
    got = check("?action=record.list", lambda x: x["action"] ==
                "record.list")
    assert got[0]["count"] == 5 and got[0]["org"] is None, got
    check("?since=" + t_mid, lambda x: x["at"] >= t_mid)
    check("?until=" + t_mid, lambda x: x["at"] <= t_mid)
    check("?principal=prov&action=record&entry=e",
          lambda x: (x["principal"], x["action"], x.get("entry")) ==
          ("prov", "record", "e"))
    assert _audit(lead, tok, query="?principal=nobody") == []
    for x in _audit(lead, tok, query="?entry=e", limit=2):
        assert x.get("entry") == "e", x

    # Reads of the audit log are audited.
    def audited():
        ev = _audit(lead, tok, query="?action=audit.read&principal=aud")
        return ev if len(ev) >= 3 else None
    ev = wait_for(audited, 10, "audit.read events")
    assert ev[0]["entry"] == "*" and ev[0]["org"] == "authority", ev
    assert any(x["entry"] == "e" for x in ev), ev

    # The provincial authority sees all; others may not ask.
    assert len(_audit(lead, tok, "admin", "?action=record")) == 5
    for who in ("prov", "cons", "cit"):
        r = lead.req("GET", "/v1/audit", token=tok[who])
        assert r.status == 403, (who, r)
    r = lead.req("GET", "/v1/audit")
    assert r.status == 401, r
    for q in ("?action=nope", "?action=tick", "?since=yesterday",
              "?after=12", "?after=0.1", "?principal=%20", "?limit=1001"):
        r = lead.req("GET", "/v1/audit" + q, token=tok["aud"])
        assert r.status == 400, (q, r)
    # Leader only: an audited read, even a stale one.
    fol = next(x for x in c.nodes if x.status()["state"] != "leader")
    for q in ("", "?consistency=stale"):
        r = fol.req("GET", "/v1/audit" + q, token=tok["aud"])
        assert r.status == 307, (q, r)
        assert r.headers["location"].startswith(lead.url), r.headers


def _from_bad_client(node, path, token):
    host, port = node.client.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10,
                                      source_address=(BAD_CLIENT, 0))
    try:
        conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def _garbage(node):
    """A request the HTTP layer cannot parse: answered 400."""
    host, port = node.client.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 400"), data


def _sec(node, tok, who="aud", query="", limit=1000):
    items, _ = _all_pages(node, "/v1/security-events" + query, tok[who],
                          limit)
    return items


def _metric_kind(node, kind):
    for line in node.req("GET", "/metrics").body.decode().splitlines():
        if line.startswith('provcat_security_events_total{kind="%s"} ' %
                           kind):
            return int(line.split()[1])
    raise AssertionError("no security event metric for " + kind)


def test_reports_security_events(c):
    """Failed logins (401, then 429 past --rate-limit), denials (a read
    and a write refused with 403), malformed requests (the HTTP layer's
    400 and the API's): each in the node's log with client, principal and
    route when known, newest first, filtered, paged, on this node only
    (another member's is a redirect), counted in /metrics; older events in
    rotated files follow, and a page's cursor survives a rotation."""
    lead, tok = _world(c)
    fol = next(x for x in c.nodes if x.status()["state"] != "leader")
    t0 = lead.req("GET", "/v1/ledger", token=tok["aud"]).headers[
        "x-provcat-time"]
    before = {k: _metric_kind(fol, k) for k in
              ("auth_failure", "denied", "rate_limited", "malformed")}
    for _ in range(3):
        r = _from_bad_client(fol, "/v1/whoami?consistency=stale",
                             "pct_not_a_token")
        assert r.status == 401, r
    r = _from_bad_client(fol, "/v1/whoami?consistency=stale",
                         "pct_not_a_token")
    assert r.status == 429, r  # past --rate-limit failures
    r = fol.req("GET", "/v1/ledger/facts?consistency=stale",
                token=tok["cons"])
    assert r.status == 403, r
    r = fol.req("POST", "/v1/catalog/e/retire", {"reason": "r"},
                token=tok["cons"])
    assert r.status == 307, r  # writes go to the leader: its log
    r = lead.req("POST", "/v1/catalog/e/retire", {"reason": "r"},
                 token=tok["cons"])
    assert r.status == 403, r
    _garbage(fol)
    r = fol.req("GET", "/v1/quality?limit=0&consistency=stale",
                token=tok["aud"])
    assert r.status == 400, r

    ev = _sec(fol, tok, query="?since=" + t0)
    kinds = [x["kind"] for x in ev]
    assert kinds[:6] == ["malformed", "malformed", "denied", "rate_limited",
                         "auth_failure", "auth_failure"], kinds
    assert kinds.count("auth_failure") == 3, kinds
    ats = [x["at"] for x in ev]
    assert ats == sorted(ats, reverse=True), "newest first"
    for x in ev:
        assert x["client"] == (BAD_CLIENT if x["kind"] in (
            "auth_failure", "rate_limited") else "127.0.0.1"), x
        assert x["node"] == fol.id and x["at"] >= t0, x
    assert ev[0].get("route") == "GET /v1/quality", ev[0]
    assert ev[0].get("principal") is None, ev[0]  # syntax before the token
    assert "route" not in ev[1], ev[1]  # the HTTP layer's: no route
    denied = ev[2]
    assert (denied.get("principal"), denied.get("route")) == \
        ("cons", "GET /v1/ledger/facts"), denied
    assert ev[3].get("route") == "GET /v1/whoami", ev[3]
    assert "principal" not in ev[4], ev[4]
    after = {k: _metric_kind(fol, k) for k in before}
    assert after["auth_failure"] - before["auth_failure"] == 3, after
    assert after["rate_limited"] - before["rate_limited"] == 1, after
    assert after["denied"] - before["denied"] == 1, after
    assert after["malformed"] - before["malformed"] == 2, after
    # The write refused in apply is the leader's event.
    lev = _sec(lead, tok, query="?kind=denied&since=" + t0)
    assert [(x["principal"], x["route"]) for x in lev] == \
        [("cons", "POST /v1/catalog/{id}/retire")], lev
    assert _metric_kind(lead, "denied") >= 1

    # Filters and pages.
    af = _sec(fol, tok, query="?kind=auth_failure&since=" + t0)
    assert len(af) == 3 and all(x["kind"] == "auth_failure" for x in af)
    assert _sec(fol, tok, query="?since=" + t0, limit=2) == ev
    until = ev[3]["at"]
    assert _sec(fol, tok, query="?since=%s&until=%s" % (t0, until)) == \
        [x for x in ev if x["at"] <= until]
    for q in ("?kind=Bad", "?since=x", "?after=nope", "?node=0"):
        r = fol.req("GET", "/v1/security-events" + q, token=tok["aud"])
        assert r.status == 400, (q, r)

    # Who may read them; node-local: another member's is a redirect.
    for who in ("admin", "aud"):
        r = fol.req("GET", "/v1/security-events?limit=1", token=tok[who])
        assert r.status == 200 and r.json["node"] == fol.id, (who, r)
    for who in ("prov", "cons", "cit"):
        r = fol.req("GET", "/v1/security-events", token=tok[who])
        assert r.status == 403, (who, r)
    r = fol.req("GET", "/v1/security-events")
    assert r.status == 401, r
    r = fol.req("GET", "/v1/security-events?node=%d" % lead.id,
                token=tok["aud"])
    assert r.status == 307, r
    assert r.headers["location"] == lead.url + \
        "/v1/security-events?node=%d" % lead.id, r.headers
    r = fol.req("GET", "/v1/security-events?node=99", token=tok["aud"])
    assert r.status == 404, r
    assert not any(x["client"] == BAD_CLIENT for x in _sec(
        lead, tok, query="?since=" + t0))

    # Rotated files: older events in security.log.1 and .2 come after the
    # current file's, newest first; a cursor taken before a rotation goes
    # on in the renamed file.
    d = fol.dir
    old = [{"at": "2020-01-0%dT00:00:00.000Z" % i, "node": fol.id,
            "kind": "auth_failure", "client": "10.0.0.%d" % i,
            "detail": "old"} for i in range(1, 5)]
    with open(os.path.join(d, "security.log.2"), "w") as f:
        for x in old[:2]:
            f.write(json.dumps(x) + "\n")
    with open(os.path.join(d, "security.log.1"), "w") as f:
        for x in old[2:]:
            f.write(json.dumps(x) + "\n")
    whole = _sec(fol, tok)
    assert whole[-4:] == old[::-1], whole[-4:]
    r = fol.req("GET", "/v1/security-events?limit=2", token=tok["aud"])
    first, nxt = r.json["items"], r.json["next"]
    os.rename(os.path.join(d, "security.log.2"),
              os.path.join(d, "security.log.3"))
    os.rename(os.path.join(d, "security.log.1"),
              os.path.join(d, "security.log.2"))
    os.rename(os.path.join(d, "security.log"),
              os.path.join(d, "security.log.1"))
    rest, after_c = [], nxt
    while after_c is not None:
        r = fol.req("GET", "/v1/security-events?limit=3&after=" + after_c,
                    token=tok["aud"])
        assert r.status == 200, r
        rest += r.json["items"]
        after_c = r.json["next"]
    assert first + rest == whole, (first + rest, whole)

    # A page reads at most 1 MiB: an older file of 3 MiB takes several
    # pages, each going on exactly where the last stopped.
    big = [{"at": "2019-01-01T00:00:%02d.%03dZ" % (i // 1000 % 60, i % 1000),
            "node": fol.id, "kind": "denied", "client": "10.1.%d.%d" % (
                i // 250, i % 250), "detail": "x" * 200 + str(i)}
           for i in range(12000)]
    big.sort(key=lambda x: x["at"])
    with open(os.path.join(d, "security.log.4"), "w") as f:
        for x in big:
            f.write(json.dumps(x) + "\n")
    assert os.path.getsize(os.path.join(d, "security.log.4")) > 3 << 20
    items, pages = _all_pages(fol, "/v1/security-events?kind=denied",
                              tok["aud"], 1000)
    assert items[-len(big):] == big[::-1], "the big file, newest first"
    # Only its 5 oldest lines pass: pages of none until the last.
    items, pages = _all_pages(
        fol, "/v1/security-events?until=" + big[4]["at"], tok["aud"], 1000)
    assert items == big[:5][::-1], items
    assert pages >= 4, pages  # 3 MiB and more, at most 1 MiB a page


TESTS = [
    (test_reports_quality_and_evaluation, {}),
    (test_reports_audit, {}),
    (test_reports_security_events, {"extra": ["--rate-limit", "3"]}),
]
