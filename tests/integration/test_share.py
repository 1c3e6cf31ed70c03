# SPDX-License-Identifier: MIT
"""Sharing (articles 17-20) over HTTP on a 3-node cluster: the whole
workflow (request, the provider's opinion, the authority's decision, the
grant), every refusal in the contract's order with its rejection fact, a
grantee reading only the granted fields, reads through a grant audited
with the grant id (and answered only once that audit fact committed:
fail closed), a grantee's read on a follower redirected, revocation,
expiry by ledger time, a grant ended by a class change, and the
responsibility, demand, negative and open lists."""
import hashlib
import json
import urllib.parse

from cluster import create_orgs, create_principals, metric, wait_for

FIELDS = [{"name": "name", "type": "string", "required": True},
          {"name": "n", "type": "integer", "required": False},
          {"name": "d", "type": "date", "required": False}]
KEY = "110101199003077777"


def _world(c):
    """Orgs dept (provides), dept2 and dept3 (consume); principals prov,
    prov_b (dept providers), cons, cons2 (dept2 consumers), cons3 (dept3
    consumer), aud (auditor), cit (citizen); admin. Entries cc
    (conditional), uu (unconditional, open), nn (none, with a basis), each
    with record KEY. Returns (leader, tokens)."""
    lead = c.leader()
    tok = {"admin": c.token, None: None}
    create_orgs(lead, c.token, ("dept", "dept2", "dept3"))
    create_principals(lead, c.token, (("prov", "dept", ["provider"]),
                                      ("prov_b", "dept", ["provider"]),
                                      ("cons", "dept2", ["consumer"]),
                                      ("cons2", "dept2", ["consumer"]),
                                      ("cons3", "dept3", ["consumer"]),
                                      ("aud", "authority", ["auditor"]),
                                      ("cit", None, None)), tok)
    for eid, share, open_ in (("cc", "conditional", "none"),
                              ("uu", "unconditional", "unconditional"),
                              ("nn", "none", "none")):
        _publish(lead, tok, eid, share, open_)
        r = lead.req("PUT", _p(eid, KEY),
                     {"name": "Ada", "n": 7, "d": "2024-02-29", "x": "extra"},
                     token=tok["prov"])
        assert r.status == 201, r
    return lead, tok


def _entry(eid, share, open_):
    return {"id": eid, "title": "title " + eid, "description": "",
            "provider": "dept", "theme": "t", "keywords": [],
            "fields": FIELDS,
            "share": {"class": share, "conditions": "for " + eid,
                      "basis": "Regulation art. 18 (" + eid + ")"},
            "open": {"class": open_, "conditions": "open " + eid},
            "update_frequency": "daily", "security_level": 2,
            "scope": "province"}


def _publish(lead, tok, eid, share, open_):
    r = lead.req("POST", "/v1/catalog", _entry(eid, share, open_),
                 token=tok["prov"])
    assert r.status == 201, r
    r = lead.req("POST", "/v1/catalog/%s/submit" % eid, token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                 {"decision": "approve", "override_duplicate": True,
                  "reason": "same schema on purpose"}, token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "published", r


def _p(eid, key, suffix=""):
    return "/v1/catalog/%s/records/%s%s" % (
        eid, urllib.parse.quote(key, safe=""), suffix)


def _facts(node, token, since):
    out, frm = [], since + 1
    while True:
        r = node.req("GET", "/v1/ledger/facts?from=%d&limit=1000" % frm,
                     token=token)
        assert r.status == 200, r
        out.extend(r.json["items"])
        if r.json["next"] is None:
            return out
        frm = int(r.json["next"])


def _ask(lead, tok, who="cons", entry="cc", **extra):
    body = {"entry": entry, "purpose": "benefit checks", "days": 30}
    body.update(extra)
    r = lead.req("POST", "/v1/share-requests", body, token=tok[who])
    assert r.status == 201, r
    assert r.json["status"] == "pending_provider", r
    return r.json["id"]


def _decide(lead, tok, who, rid, decision="approve", reason=None):
    body = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return lead.req("POST", "/v1/share-requests/%s/decide" % rid, body,
                    token=tok[who])


def _granted(lead, tok, who="cons", entry="cc", **extra):
    rid = _ask(lead, tok, who, entry, **extra)
    assert _decide(lead, tok, "prov", rid).status == 200
    r = _decide(lead, tok, "admin", rid, reason="fine")
    assert r.status == 200 and r.json["status"] == "approved", r
    return rid, r.json["grant"]


def _refused(c, lead, tok, who, method, path, body, status, command):
    """A refused write: the status, and its rejection fact by `who`."""
    before = lead.status()["revision"]
    r = lead.req(method, path, body, token=tok[who])
    assert r.status == status, (who, path, body, r)
    rej = [f for f in _facts(lead, c.token, before)
           if f["kind"] == "rejection"]
    assert len(rej) == 1, rej
    assert rej[0]["principal"] == who, rej
    assert rej[0]["payload"]["command"] == command, rej
    assert rej[0]["payload"]["status"] == status, rej
    return r


def _audit_events(c, lead, since):
    """The read-audit events of every audit fact after `since`."""
    out = []
    for f in _facts(lead, c.token, since):
        if f["kind"] == "audit":
            assert f["payload"]["encoding"] == 2, f
            assert len(f["events"]) == f["payload"]["events"], f
            out.extend(f["events"])
    return out


def _canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def test_share_workflow(c):
    """Request, the provider's opinion, the authority's decision; refusals
    in the contract's order, each a rejection fact; who sees requests and
    grants; the grantee org's consumers read (verifiably) and each read is
    audited with the grant id."""
    lead, tok = _world(c)
    assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 403
    # The request's refusals: 400, 404, 403, 409, 422.
    sr = "/v1/share-requests"
    for body, field in (({"entry": "cc", "purpose": "p"}, "days"),
                        ({"entry": "cc", "purpose": "p", "days": 3651},
                         "days"),
                        ({"entry": "cc", "days": 1}, "purpose"),
                        ({"entry": "cc", "purpose": "p", "days": 1,
                          "fields": []}, "fields")):
        before = lead.status()["revision"]
        r = lead.req("POST", sr, body, token=tok["cons"])
        assert r.status == 400 and r.json["error"]["field"] == field, r
        assert lead.status()["revision"] == before  # syntax: nothing kept
    ok = {"entry": "cc", "purpose": "p", "days": 1}
    _refused(c, lead, tok, "cons", "POST", sr, dict(ok, entry="zz"), 404,
             "share.request")
    _refused(c, lead, tok, "cit", "POST", sr, ok, 403, "share.request")
    _refused(c, lead, tok, "prov", "POST", sr, ok, 403, "share.request")
    _refused(c, lead, tok, "cons", "POST", sr, dict(ok, entry="uu"), 409,
             "share.request")
    _refused(c, lead, tok, "cons", "POST", sr, dict(ok, entry="nn"), 409,
             "share.request")
    r = _refused(c, lead, tok, "cons", "POST", sr,
                 dict(ok, fields=["name", "salary"]), 422, "share.request")
    assert r.json["error"]["field"] == "fields", r
    assert lead.req("POST", sr, ok).status == 401

    rid = _ask(lead, tok)
    r = lead.req("GET", "/v1/share-requests/" + rid, token=tok["cons"])
    assert r.status == 200 and r.json["requester"] == "cons", r
    assert r.json["org"] == "dept2" and r.json["provider"] == "dept", r
    assert r.json["version"] == 1 and len(r.json["hash"]) == 64, r
    # Out of turn and wrong role, each a rejection fact.
    path = "/v1/share-requests/%s/decide" % rid
    _refused(c, lead, tok, "admin", "POST", path, {"decision": "approve"}, 409,
             "share.decide")
    _refused(c, lead, tok, "cons", "POST", path, {"decision": "approve"}, 403,
             "share.decide")
    _refused(c, lead, tok, "cons3", "POST", path, {"decision": "approve"},
             403, "share.decide")
    _refused(c, lead, tok, "cons", "POST", "/v1/share-requests/sr-999999/"
             "decide", {"decision": "approve"}, 404, "share.decide")
    r = lead.req("POST", path, {"decision": "reject"}, token=tok["prov"])
    assert r.status == 400 and r.json["error"]["field"] == "reason", r
    r = _decide(lead, tok, "prov", rid, "reject", "personal data inside")
    assert r.status == 200 and r.json["status"] == "pending_authority", r
    assert r.json["provider_opinion"]["decision"] == "reject", r
    assert r.json["provider_opinion"]["by"] == "prov", r
    assert r.json["provider_opinion"]["reason"] == "personal data inside"
    _refused(c, lead, tok, "prov_b", "POST", path, {"decision": "approve"},
             409, "share.decide")
    r = _decide(lead, tok, "admin", rid, "approve")
    assert r.status == 200 and r.json["status"] == "approved", r
    assert r.json["decision"]["by"] == "admin", r
    grant = r.json["grant"]
    assert grant.startswith("gr-"), r
    _refused(c, lead, tok, "admin", "POST", path, {"decision": "reject",
                                                   "reason": "x"}, 409,
             "share.decide")
    # Who sees the request and the grant.
    for who, want in (("cons", 200), ("cons2", 200), ("prov", 200),
                      ("admin", 200), ("aud", 200), ("cons3", 404),
                      ("cit", 404)):
        r = lead.req("GET", "/v1/share-requests/" + rid, token=tok[who])
        assert r.status == want, (who, r)
        r = lead.req("GET", "/v1/grants/" + grant, token=tok[who])
        assert r.status == want, (who, r)
        items = lead.req("GET", "/v1/grants", token=tok[who]).json["items"]
        assert (grant in [g["id"] for g in items]) == (want == 200), who
    assert lead.req("GET", "/v1/share-requests/sr-0",
                    token=tok["cons"]).status == 400
    assert lead.req("GET", "/v1/share-requests").status == 401
    g = lead.req("GET", "/v1/grants/" + grant, token=tok["cons"]).json
    assert g["status"] == "active" and g["org"] == "dept2", g
    assert g["request"] == rid and g["entry"] == "cc", g
    assert "fields" not in g, g
    r = lead.req("GET", "/v1/share-requests?status=approved&entry=cc",
                 token=tok["cons"])
    assert [x["id"] for x in r.json["items"]] == [rid], r
    assert lead.req("GET", "/v1/share-requests?status=nope",
                    token=tok["cons"]).status == 400
    # The grantee org's consumers read, everything and verifiably; each
    # read is audited with the grant id.
    since = lead.status()["revision"]
    for who in ("cons", "cons2"):
        r = lead.req("GET", _p("cc", KEY), token=tok[who])
        assert r.status == 200, r
        raw = _canon(r.json["value"])
        h = hashlib.blake2b(b"\x02" + bytes.fromhex(r.json["salt"]) + raw,
                            digest_size=32).hexdigest()
        assert h == r.json["content_hash"] and "filtered" not in r.json, r
    assert lead.req("GET", _p("cc", "nope"), token=tok["cons"]).status == 404
    r = lead.req("GET", _p("cc", KEY, "/history"), token=tok["cons"])
    assert r.status == 200 and len(r.json["items"]) == 1, r
    r = lead.req("GET", "/v1/catalog/cc/records", token=tok["cons"])
    assert r.status == 200 and r.json["items"][0]["key"] == KEY, r
    for who in ("cons3", "cit"):
        assert lead.req("GET", _p("cc", KEY), token=tok[who]).status == 403
    ev = _audit_events(c, lead, since)
    mine = [e for e in ev if e.get("grant") == grant]
    assert [(e["principal"], e["action"], e.get("key")) for e in mine] == [
        ("cons", "record.read", KEY), ("cons2", "record.read", KEY),
        ("cons", "record.history", KEY), ("cons", "record.list", None)], ev
    assert all(e["org"] == "dept2" and e["entry"] == "cc" for e in mine)
    assert mine[0]["version"] == 1 and mine[2]["count"] == 1
    assert metric(lead, "provcat_audit_held_reads_served_total") >= 4
    # Linearizable reads through a grant take no barrier (their audit fact
    # linearizes them); the provider's own take one.
    barriers = metric(lead, "provcat_read_barriers_total")
    for _ in range(5):
        assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 200
    assert metric(lead, "provcat_read_barriers_total") == barriers
    assert lead.req("GET", _p("cc", KEY), token=tok["prov"]).status == 200
    assert metric(lead, "provcat_read_barriers_total") == barriers + 1


def test_share_field_subset(c):
    """A grantee limited to some fields gets only those, marked
    "filtered" and without content_hash or salt (it could not verify
    them), in reads and history; its events name the grant."""
    lead, tok = _world(c)
    assert lead.req("PUT", _p("cc", KEY), {"name": "Bea", "n": 8},
                    token=tok["prov"]).status == 200
    rid, grant = _granted(lead, tok, fields=["name", "d"])
    g = lead.req("GET", "/v1/grants/" + grant, token=tok["admin"]).json
    assert g["fields"] == ["name", "d"], g
    r = lead.req("GET", _p("cc", KEY), token=tok["cons"])
    assert r.status == 200, r
    assert r.json["value"] == {"name": "Bea"}, r
    assert r.json["filtered"] is True and r.json["fields"] == ["name", "d"]
    assert "content_hash" not in r.json and "salt" not in r.json, r
    assert r.json["version"] == 2 and len(r.json["hash"]) == 64, r
    r = lead.req("GET", _p("cc", KEY) + "?version=1", token=tok["cons"])
    assert r.json["value"] == {"d": "2024-02-29", "name": "Ada"}, r
    r = lead.req("GET", _p("cc", KEY, "/history"), token=tok["cons"])
    assert [v["value"] for v in r.json["items"]] == [
        {"d": "2024-02-29", "name": "Ada"}, {"name": "Bea"}], r
    assert all("content_hash" not in v for v in r.json["items"]), r
    # The provider and an authority still see everything.
    r = lead.req("GET", _p("cc", KEY), token=tok["admin"])
    assert r.json["value"] == {"name": "Bea", "n": 8} and \
        "content_hash" in r.json, r
    # A second, full grant wins over the subset.
    _, full = _granted(lead, tok, who="cons2")
    r = lead.req("GET", _p("cc", KEY), token=tok["cons"])
    assert r.json["value"] == {"name": "Bea", "n": 8}, r
    since = lead.status()["revision"]
    assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 200
    ev = wait_for(lambda: [e for e in _audit_events(c, lead, since)
                           if e.get("grant")], 5, "the audit event")
    assert ev[0]["grant"] == full, ev


def test_share_revocation_and_class_change(c):
    """The authority revokes (with a reason, once); a grant also ends when
    the share class in force stops being conditional, and stays ended."""
    lead, tok = _world(c)
    rid, grant = _granted(lead, tok)
    path = "/v1/grants/%s/revoke" % grant
    r = lead.req("POST", path, {}, token=tok["admin"])
    assert r.status == 400 and r.json["error"]["field"] == "reason", r
    _refused(c, lead, tok, "prov", "POST", path, {"reason": "x"}, 403,
             "grant.revoke")
    _refused(c, lead, tok, "cons3", "POST", path, {"reason": "x"}, 403,
             "grant.revoke")
    assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 200
    r = lead.req("POST", path, {"reason": "misuse"}, token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "revoked", r
    assert r.json["revoked"]["reason"] == "misuse", r
    assert r.json["version"] == 2, r
    assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 403
    _refused(c, lead, tok, "admin", "POST", path, {"reason": "again"}, 409,
             "grant.revoke")
    r = lead.req("GET", "/v1/grants?status=revoked", token=tok["cons"])
    assert [g["id"] for g in r.json["items"]] == [grant], r
    # A class change ends grants once approved, not while it awaits review.
    _, g2 = _granted(lead, tok)
    e = lead.req("GET", "/v1/catalog/cc", token=tok["prov"]).json
    body = _entry("cc", "unconditional", "none")
    r = lead.req("PUT", "/v1/catalog/cc", body, token=tok["prov"],
                 headers={"If-Match": '"%d"' % e["version"]})
    assert r.status == 200 and r.json["status"] == "submitted", r
    assert lead.req("GET", "/v1/grants/" + g2,
                    token=tok["cons"]).json["status"] == "active"
    r = lead.req("POST", "/v1/catalog/cc/review",
                 {"decision": "approve", "override_duplicate": True,
                  "reason": "ok"}, token=tok["admin"])
    assert r.status == 200, r
    g = lead.req("GET", "/v1/grants/" + g2, token=tok["cons"]).json
    assert g["status"] == "ended", g
    assert g["ended"]["reason"] == "share_class_changed", g
    assert g["ended"]["revision"] == r.json["revision"], (g, r.json)
    # Unconditional: consumers read without a grant (audited, no grant).
    since = lead.status()["revision"]
    assert lead.req("GET", _p("cc", KEY), token=tok["cons3"]).status == 200
    ev = wait_for(lambda: _audit_events(c, lead, since), 5, "an audit fact")
    assert ev[0]["principal"] == "cons3" and "grant" not in ev[0], ev


def _advance_ledger_time(c, ms):
    """Move ledger time `ms` ahead: every node restarts with its clock
    that far ahead (the test clock hook, PROVCAT_TEST_CLOCK_OFFSET_MS; the
    only place these tests use it), so the first leader after the restart
    stamps the new time (docs/node.md: it has no older reference)."""
    for x in c.nodes:
        assert x.stop() == 0
    for x in c.nodes:
        x.start("existing", env={"PROVCAT_TEST_CLOCK_OFFSET_MS": str(ms)})
    return c.wait_ready(30)


def test_share_expiry_by_ledger_time(c):
    """A grant of one day reads until ledger time passes its end, then
    not; its status says expired and it can no longer be revoked."""
    lead, tok = _world(c)
    rid, grant = _granted(lead, tok, days=1)
    g = lead.req("GET", "/v1/grants/" + grant, token=tok["cons"]).json
    assert g["status"] == "active", g
    assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 200
    lead = _advance_ledger_time(c, 25 * 3600 * 1000)
    # A write stamps the new time; reads compare with it.
    r = lead.req("POST", "/v1/orgs",
                 {"id": "later", "name": "later", "level": "province",
                  "kind": "agency", "parent": "authority"}, token=c.token)
    assert r.status == 201, r
    lt = lead.req("GET", "/v1/grants/" + grant, token=tok["cons"])
    assert lt.headers["x-provcat-time"] > g["ends_at"], (lt.headers, g)
    assert lt.json["status"] == "expired", lt
    assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 403
    r = lead.req("POST", "/v1/grants/%s/revoke" % grant, {"reason": "x"},
                 token=tok["admin"])
    assert r.status == 409 and "expired" in r.json["error"]["message"], r
    r = lead.req("GET", "/v1/grants?status=expired", token=tok["admin"])
    assert [x["id"] for x in r.json["items"]] == [grant], r


def test_share_follower_redirect_and_fail_closed(c):
    """A grantee's read on a follower, stale or not, goes to the leader
    (307); with no majority the leader cannot commit the read's audit
    fact, and the read is refused, never served unaudited."""
    lead, tok = _world(c)
    _granted(lead, tok)
    c.converged()
    fol = [x for x in c.nodes if x is not lead][0]
    wait_for(lambda: ((fol.status() or {}).get("leader") or {})
             .get("client_url") == lead.url, 10, "leader URL on follower")
    for q in ("", "?consistency=stale"):
        r = fol.req("GET", _p("cc", KEY) + q, token=tok["cons"])
        assert r.status == 307 and r.json["error"]["code"] == "not_leader", r
        assert r.headers["location"] == lead.url + _p("cc", KEY) + q, r
    # The provider's own stale read is served there.
    r = fol.req("GET", _p("cc", KEY) + "?consistency=stale", token=tok["prov"])
    assert r.status == 200, r
    assert lead.req("GET", _p("cc", KEY), token=tok["cons"]).status == 200
    failed = metric(lead, "provcat_audit_held_reads_failed_total")
    for x in c.nodes:
        if x is not lead:
            x.kill()
    r = lead.req("GET", _p("cc", KEY), token=tok["cons"], timeout=30)
    # The leader still leads when the read arrives (it steps down only
    # after an election timeout without a majority): it holds the answer,
    # its audit fact cannot commit, and the read is refused.
    assert r.status == 503 and "not served" in r.json["error"]["message"], r
    assert metric(lead, "provcat_audit_held_reads_failed_total") == failed + 1


def test_share_lists(c):
    """Responsibility (entries in force by provider), demand (requests by
    entry), negative (share class none with its basis) and open (open
    class not none; no token needed), paged and filtered."""
    lead, tok = _world(c)
    _publish(lead, tok, "cc2", "conditional", "conditional")
    rid, grant = _granted(lead, tok)
    _ask(lead, tok, who="cons3")
    _ask(lead, tok, who="cons", entry="cc2")
    r = lead.req("GET", "/v1/lists/responsibility", token=tok["cons"])
    assert r.status == 200, r
    assert [e["id"] for e in r.json["items"]] == ["cc", "cc2", "nn", "uu"]
    assert r.json["items"][0]["provider"] == "dept", r
    assert r.json["items"][0]["share"]["class"] == "conditional", r
    r = lead.req("GET", "/v1/lists/responsibility?limit=2", token=tok["cit"])
    assert [e["id"] for e in r.json["items"]] == ["cc", "cc2"], r
    r = lead.req("GET", "/v1/lists/responsibility?limit=2&after=" +
                 r.json["next"], token=tok["cit"])
    assert [e["id"] for e in r.json["items"]] == ["nn", "uu"], r
    assert r.json["next"] is None, r
    r = lead.req("GET", "/v1/lists/responsibility?provider=dept2",
                 token=tok["cons"])
    assert r.json["items"] == [], r
    r = lead.req("GET", "/v1/lists/negative", token=tok["cons"])
    assert [(e["id"], e["basis"]) for e in r.json["items"]] == [
        ("nn", "Regulation art. 18 (nn)")], r
    r = lead.req("GET", "/v1/lists/demand", token=tok["cons3"])
    d = {e["entry"]: e for e in r.json["items"]}
    assert sorted(d) == ["cc", "cc2"], r
    assert d["cc"]["total"] == 2 and d["cc"]["orgs"] == ["dept2", "dept3"]
    assert d["cc"]["requests"] == {"pending_provider": 1,
                                   "pending_authority": 0, "approved": 1,
                                   "rejected": 0}, d
    assert d["cc"]["grants_active"] == 1, d
    r = lead.req("GET", "/v1/lists/demand?entry=cc2", token=tok["cons3"])
    assert [e["entry"] for e in r.json["items"]] == ["cc2"], r
    for path in ("/v1/lists/responsibility", "/v1/lists/demand",
                 "/v1/lists/negative"):
        assert lead.req("GET", path).status == 401, path
    r = lead.req("GET", "/v1/lists/open")
    assert r.status == 200, r
    assert [(e["id"], e["open"]["class"], e["open"]["conditions"])
            for e in r.json["items"]] == [
        ("cc2", "conditional", "open cc2"),
        ("uu", "unconditional", "open uu")], r
    assert lead.req("GET", "/v1/lists/open?limit=0").status == 400
    assert lead.req("GET", "/v1/lists/open",
                    token="pct_bogus").status == 401


TESTS = [
    (test_share_workflow, {}),
    (test_share_field_subset, {}),
    (test_share_revocation_and_class_change, {}),
    (test_share_expiry_by_ledger_time, {}),
    (test_share_follower_redirect_and_fail_closed, {}),
    (test_share_lists, {}),
]
