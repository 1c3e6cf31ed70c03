# SPDX-License-Identifier: MIT
"""Records over HTTP on a 3-node cluster: lifecycle, CAS conflicts, schema
422s naming the field, batch atomicity, paging stability while writes go
on, history hash chains with content hashes recomputed here, read rules
and audit facts, 405 on DELETE, follower redirects, restart, a full
disk."""
import hashlib
import json
import os
import subprocess
import threading
import time
import urllib.parse

from cluster import appends_nothing, metric, wait_for

FIELDS = [{"name": "name", "type": "string", "required": True},
          {"name": "n", "type": "integer", "required": False},
          {"name": "d", "type": "date", "required": False}]


def _world(c):
    """Orgs dept (provider) and dept2; principals prov (dept provider),
    prov2 (dept2 provider), cons (dept2 consumer), cit (citizen).
    Returns (leader, tokens by principal id)."""
    lead = c.leader()
    tok = {"admin": c.token}
    for oid in ("dept", "dept2"):
        r = lead.req("POST", "/v1/orgs",
                     {"id": oid, "name": oid, "level": "province",
                      "kind": "agency", "parent": "authority"},
                     token=c.token)
        assert r.status == 201, r
    for pid, org, roles in (("prov", "dept", ["provider"]),
                            ("prov2", "dept2", ["provider"]),
                            ("cons", "dept2", ["consumer"]),
                            ("cit", None, None)):
        body = {"id": pid}
        if org:
            body.update({"org": org, "roles": roles})
        r = lead.req("POST", "/v1/principals", body, token=c.token)
        assert r.status == 201, r
        tok[pid] = r.json["token"]
    return lead, tok


def _publish(lead, tok, eid, share="unconditional", open_="unconditional"):
    body = {"id": eid, "title": eid, "description": "", "provider": "dept",
            "theme": "t", "keywords": [], "fields": FIELDS,
            "share": {"class": share, "conditions": "", "basis": "art. 18"},
            "open": {"class": open_, "conditions": ""},
            "update_frequency": "daily", "security_level": 2,
            "scope": "province"}
    r = lead.req("POST", "/v1/catalog", body, token=tok["prov"])
    assert r.status == 201, r
    r = lead.req("POST", "/v1/catalog/%s/submit" % eid, token=tok["prov"])
    assert r.status == 200, r
    # The entries share one schema, so each is a possible duplicate.
    r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                 {"decision": "approve", "override_duplicate": True,
                  "reason": "same schema on purpose"}, token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "published", r


def _p(eid, key, suffix=""):
    return "/v1/catalog/%s/records/%s%s" % (
        eid, urllib.parse.quote(key, safe=""), suffix)


def _canon(v):
    """RFC 8785 for the documents these tests use (no floats but 2.5-like
    ones whose Python repr is the ECMAScript form, no astral keys)."""
    return json.dumps(v, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def _raw_values(body):
    """The raw bytes of each "value" member that closes its object, in
    order: the canonical bytes as the server emitted them."""
    text = body.decode()
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        i = text.find('"value":', i)
        if i < 0:
            return out
        try:
            _, end = dec.raw_decode(text, i + 8)
        except ValueError:
            i += 8
            continue
        if text[end:end + 1] == "}":
            out.append(text[i + 8:end].encode())
            i = end
        else:
            i += 8


def _check_content(item, raw):
    salt = bytes.fromhex(item["salt"])
    assert len(salt) == 16
    h = hashlib.blake2b(b"\x02" + salt + raw, digest_size=32).hexdigest()
    assert h == item["content_hash"], (item, raw)
    assert raw == _canon(item["value"]), raw


def test_records_lifecycle(c):
    """PUT creates (201) then updates (200); GET answers the document in
    canonical form with salt and content hash; retire, correct and
    re-create are versions; ?version= reads an old document."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    key = "110101199003077777/é"
    r = lead.req("PUT", _p("e", key),
                 '{"name": "A", "n": 1.0, "d": "2024-02-29", "x": [1E21]}',
                 token=tok["prov"])
    assert r.status == 201, r
    assert r.json["version"] == 1 and r.json["op"] == "create"
    assert r.json["entry"] == "e" and r.json["key"] == key
    assert "prev_hash" not in r.json and len(r.json["hash"]) == 64
    assert r.headers["etag"] == '"1"'
    v1 = r.json
    r = lead.req("GET", _p("e", key), token=tok["prov"])
    assert r.status == 200, r
    g = r.json
    for k in ("entry", "key", "version", "op", "value", "salt",
              "content_hash", "author", "org", "at", "revision", "hash"):
        assert k in g, k
    assert g["author"] == "prov" and g["org"] == "dept"
    assert g["hash"] == v1["hash"] and g["revision"] == v1["revision"]
    raw = _raw_values(r.body)
    assert raw == [b'{"d":"2024-02-29","n":1,"name":"A","x":[1e+21]}'], raw
    _check_content(g, raw[0])
    r = lead.req("PUT", _p("e", key), {"name": "B"}, token=tok["prov"])
    assert r.status == 200 and r.json["op"] == "update", r
    assert r.json["prev_hash"] == v1["hash"]
    r = lead.req("POST", _p("e", key, "/retire"), {"reason": "moved"},
                 token=tok["prov"])
    assert r.status == 200 and r.json["op"] == "retire", r
    r = lead.req("GET", _p("e", key), token=tok["prov"])
    assert r.status == 200 and r.json["retired"] is True, r
    assert r.json["op"] == "retire" and "value" not in r.json
    assert "salt" not in r.json and "content_hash" not in r.json
    r = lead.req("GET", _p("e", key) + "?version=2", token=tok["prov"])
    assert r.status == 200 and r.json["value"] == {"name": "B"}, r
    r = lead.req("POST", _p("e", key, "/correct"),
                 {"value": {"name": "C"}, "reason": "typo"},
                 token=tok["prov"])
    assert r.status == 200 and r.json["op"] == "correct", r
    r = lead.req("GET", _p("e", key), token=tok["prov"])
    assert r.json["retired"] is True and r.json["value"] == {"name": "C"}
    r = lead.req("PUT", _p("e", key), {"name": "D"}, token=tok["prov"],
                 headers={"If-None-Match": "*"})
    assert r.status == 201 and r.json["op"] == "create", r
    assert r.json["version"] == 5
    r = lead.req("GET", _p("e", key) + "?version=9", token=tok["prov"])
    assert r.status == 404, r
    r = lead.req("GET", _p("e", "nope"), token=tok["prov"])
    assert r.status == 404, r
    # at_revision: the version current then
    r = lead.req("GET", _p("e", key) + "?at_revision=%d" % v1["revision"],
                 token=tok["prov"])
    assert r.status == 200 and r.json["version"] == 1, r
    r = lead.req("GET", _p("e", key) + "?at_revision=%d" %
                 (v1["revision"] - 1), token=tok["prov"])
    assert r.status == 404, r


def test_records_cas_conflicts(c):
    """If-None-Match: * and If-Match answer 409 with current_version; an
    Idempotency-Key replays the original answer."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    r = lead.req("PUT", _p("e", "k"), {"name": "1"}, token=tok["prov"],
                 headers={"If-None-Match": "*"})
    assert r.status == 201, r
    r = lead.req("PUT", _p("e", "k"), {"name": "2"}, token=tok["prov"],
                 headers={"If-None-Match": "*"})
    assert r.status == 409 and r.json["error"]["code"] == "conflict", r
    assert r.json["error"]["current_version"] == 1, r
    r = lead.req("PUT", _p("e", "k"), {"name": "2"}, token=tok["prov"],
                 headers={"If-Match": '"7"'})
    assert r.status == 409 and r.json["error"]["current_version"] == 1, r
    r = lead.req("PUT", _p("e", "k"), {"name": "2"}, token=tok["prov"],
                 headers={"If-Match": '"1"'})
    assert r.status == 200 and r.json["version"] == 2, r
    r = lead.req("PUT", _p("e", "k"), {"name": "2"}, token=tok["prov"],
                 headers={"If-Match": "junk"})
    assert r.status == 400, r
    h = {"Idempotency-Key": "rec-1"}
    r1 = lead.req("PUT", _p("e", "i"), {"name": "1"}, token=tok["prov"],
                  headers=h)
    r2 = lead.req("PUT", _p("e", "i"), {"name": "1"}, token=tok["prov"],
                  headers=h)
    assert r1.status == 201 and r2.status == 201, (r1, r2)
    assert r2.headers.get("idempotent-replayed") == "true"
    assert r2.json["hash"] == r1.json["hash"]
    # the same key with another body
    r3 = lead.req("PUT", _p("e", "i"), {"name": "2"}, token=tok["prov"],
                  headers=h)
    assert r3.status == 422, r3
    assert r3.json["error"]["code"] == "idempotency_mismatch"
    # a batch replayed under its key writes nothing again (the leader
    # prepares it anew with new salts; the fingerprint is the HTTP body's)
    hb = {"Idempotency-Key": "batch-1"}
    body = {"records": [{"key": "ib%d" % i, "value": {"name": "x"}}
                        for i in range(3)]}
    b1 = lead.req("POST", "/v1/catalog/e/records:batch", body,
                  token=tok["prov"], headers=hb)
    b2 = appends_nothing(lead, lambda: lead.req(
        "POST", "/v1/catalog/e/records:batch", body, token=tok["prov"],
        headers=hb))
    assert b1.status == 200 and b2.status == 200, (b1, b2)
    assert b2.headers.get("idempotent-replayed") == "true"
    assert b2.json["items"] == b1.json["items"]


def test_records_validation(c):
    """Schema violations are 422 naming the field; syntax is 400 before
    anything is proposed; a document over 256 KiB is 413; writers are the
    provider org's providers."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    cases = [({"n": 1}, "name"), ({"name": None}, "name"),
             ({"name": "a", "n": 1.5}, "n"),
             ({"name": "a", "n": 9007199254740992}, "n"),
             ({"name": "a", "d": "2023-02-29"}, "d")]
    for doc, field in cases:
        r = lead.req("PUT", _p("e", "s"), doc, token=tok["prov"])
        assert r.status == 422, (doc, r)
        assert r.json["error"]["code"] == "invalid"
        assert r.json["error"]["field"] == field, (doc, r)
    def refused():  # syntax errors create nothing
        for body in ('{"name": "a", "name": "b"}', "[1]",
                     '{"name": "\\ud800"}', "{" * 70 + "}" * 70, "",
                     "{\"name\": 1e999}"):
            r = lead.req("PUT", _p("e", "s"), body, token=tok["prov"])
            assert r.status == 400, (body[:30], r)
        for key in ("..", ".", "a\nb", "x" * 513):
            r = lead.req("PUT", _p("e", key), {"name": "a"}, token=tok["prov"])
            assert r.status == 400, (key[:10], r)
        r = lead.req("PUT", _p("e", "big"), {"name": "x" * (300 << 10)},
                     token=tok["prov"])
        assert r.status == 413 and r.json["error"]["code"] == "too_large", r
        r = lead.req("PUT", "/v1/catalog/bad%21/records/k", {"name": "a"},
                     token=tok["prov"])
        assert r.status == 400, r
    appends_nothing(lead, refused)
    for who, want in (("prov2", 403), ("cons", 403), ("admin", 403)):
        r = lead.req("PUT", _p("e", "w"), {"name": "a"}, token=tok[who])
        assert r.status == want, (who, r)
    r = lead.req("PUT", _p("e", "w"), {"name": "a"})
    assert r.status == 401, r
    r = lead.req("PUT", _p("nope", "w"), {"name": "a"}, token=tok["prov"])
    assert r.status == 404, r


def test_records_batch_atomicity(c):
    """A batch applies all items in order or none: the first failing item
    is named by key and index; duplicates and oversize batches are 400."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    assert lead.req("PUT", _p("e", "b"), {"name": "old"},
                    token=tok["prov"]).status == 201
    bad = {"records": [{"key": "a", "value": {"name": "1"}},
                       {"key": "b", "value": {"name": "2"}, "if_version": 1},
                       {"key": "c", "value": {"name": 3}},
                       {"key": "d", "value": {}}]}
    r = lead.req("POST", "/v1/catalog/e/records:batch", bad,
                 token=tok["prov"])
    assert r.status == 422, r
    e = r.json["error"]
    assert e["key"] == "c" and e["index"] == 2 and e["field"] == "name", e
    for k in ("a", "c", "d"):
        assert lead.req("GET", _p("e", k), token=tok["prov"]).status == 404
    assert lead.req("GET", _p("e", "b"),
                    token=tok["prov"]).json["version"] == 1
    r = lead.req("POST", "/v1/catalog/e/records:batch",
                 {"records": [{"key": "a", "value": {"name": "1"}},
                              {"key": "b", "value": {"name": "2"},
                               "if_version": 0}]},
                 token=tok["prov"])
    assert r.status == 409, r
    assert r.json["error"]["index"] == 1
    assert r.json["error"]["current_version"] == 1
    r = lead.req("POST", "/v1/catalog/e/records:batch",
                 {"records": [{"key": "a", "value": {"name": "1"}},
                              {"key": "a", "value": {"name": "2"}}]},
                 token=tok["prov"])
    assert r.status == 400 and r.json["error"]["index"] == 1, r
    r = lead.req("POST", "/v1/catalog/e/records:batch",
                 {"records": [{"key": "k%d" % i, "value": {"name": "x"}}
                              for i in range(1001)]}, token=tok["prov"])
    assert r.status == 400, r
    for body in ({}, {"records": [{"value": {}}]}, {"records": {}},
                 {"records": [{"key": "a", "value": {}, "junk": 1}]}):
        r = lead.req("POST", "/v1/catalog/e/records:batch", body,
                     token=tok["prov"])
        assert r.status == 400, (body, r)
    good = {"records": [{"key": "k%03d" % i, "value": {"name": str(i)}}
                        for i in range(200)]}
    good["records"].append({"key": "b", "value": {"name": "new"},
                            "if_version": 1})
    r = lead.req("POST", "/v1/catalog/e/records:batch", good,
                 token=tok["prov"])
    assert r.status == 200, r
    items = r.json["items"]
    assert [i["key"] for i in items] == [x["key"] for x in good["records"]]
    revs = [i["revision"] for i in items]
    assert revs == list(range(revs[0], revs[0] + len(revs)))
    assert r.json["revision"] == revs[-1]
    assert items[-1]["op"] == "update" and items[-1]["version"] == 2
    assert items[0]["op"] == "create" and "prev_hash" not in items[0]


def test_records_history_chain(c):
    """History is oldest first, paged; each prev_hash is the previous
    version's hash; each document hashes to its content_hash."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    key = "h/1"
    docs = [{"name": "v%d" % i, "n": i, "nested": {"z": [1, "é", None],
                                                    "a": True}}
            for i in range(4)]
    for i, d in enumerate(docs):
        r = lead.req("PUT", _p("e", key), d, token=tok["prov"])
        assert r.status == (201 if i == 0 else 200), r
    assert lead.req("POST", _p("e", key, "/retire"), {"reason": "gone"},
                    token=tok["prov"]).status == 200
    r = lead.req("GET", _p("e", key, "/history"), token=tok["prov"])
    assert r.status == 200 and r.json["next"] is None, r
    items = r.json["items"]
    assert [i["version"] for i in items] == [1, 2, 3, 4, 5]
    raws = _raw_values(r.body)
    assert len(raws) == 4
    for i, it in enumerate(items):
        if i == 0:
            assert "prev_hash" not in it
        else:
            assert it["prev_hash"] == items[i - 1]["hash"], i
        if it["op"] != "retire":
            assert it["value"] == docs[i]
            _check_content(it, raws[i])
    assert items[4]["op"] == "retire" and items[4]["reason"] == "gone"
    # paged
    seen, after = [], None
    while True:
        q = "?limit=2" + ("&after=%s" % after if after else "")
        r = lead.req("GET", _p("e", key, "/history") + q, token=tok["prov"])
        assert r.status == 200, r
        seen += [i["version"] for i in r.json["items"]]
        after = r.json["next"]
        if after is None:
            break
    assert seen == [1, 2, 3, 4, 5]


def test_records_list_paging_stable(c):
    """Listing pages in key order from one snapshot: while other keys are
    written meanwhile, a full scan returns exactly the keys of the first
    page's revision, once each; retired keys only with include_retired."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    keys = ["k%03d" % i for i in range(60)]
    r = lead.req("POST", "/v1/catalog/e/records:batch",
                 {"records": [{"key": k, "value": {"name": k}}
                              for k in keys]}, token=tok["prov"])
    assert r.status == 200, r
    assert lead.req("POST", _p("e", "k010", "/retire"), {"reason": "x"},
                    token=tok["prov"]).status == 200
    stop = threading.Event()
    written = []

    def writer():
        i = 0
        while not stop.is_set():
            k = "k%03d-new%d" % (i * 7 % 60, i)
            if lead.req("PUT", _p("e", k), {"name": "n"},
                        token=tok["prov"]).status == 201:
                written.append(k)
            i += 1
    t = threading.Thread(target=writer)
    t.start()
    try:
        seen, after = [], None
        while True:
            q = "?limit=7" + ("&after=%s" % after if after else "")
            r = lead.req("GET", "/v1/catalog/e/records" + q,
                         token=tok["prov"])
            assert r.status == 200, r
            seen += [i["key"] for i in r.json["items"]]
            if after is None:
                snap = r.json["revision"]
            else:
                assert r.json["revision"] == snap, r
            after = r.json["next"]
            time.sleep(0.02)
            if after is None:
                break
    finally:
        stop.set()
        t.join()
    assert len(written) > 5, written
    # exactly the live keys of the first page's revision, in order, once
    assert seen == sorted(set(seen)), seen
    assert [k for k in seen if "-new" not in k] == \
        [k for k in keys if k != "k010"], seen
    for k in written:
        r = lead.req("GET", _p("e", k) + "?at_revision=%d" % snap,
                     token=tok["prov"])
        assert r.status == (200 if k in seen else 404), (k, r)
    r = lead.req("GET", "/v1/catalog/e/records?prefix=k01&include_retired="
                 "true&limit=1000", token=tok["prov"])
    items = [i for i in r.json["items"] if "-new" not in i["key"]]
    assert [i["key"] for i in items] == ["k%03d" % i for i in range(10, 20)]
    assert items[0]["retired"] is True and items[0]["op"] == "retire"
    assert all(i["retired"] is False for i in items[1:])
    r = lead.req("GET", "/v1/catalog/e/records?after=%21%21", token=tok["prov"])
    assert r.status == 400, r
    r = lead.req("GET", "/v1/catalog/e/records?limit=1001", token=tok["prov"])
    assert r.status == 400, r


def test_records_read_rules_and_audit(c):
    """Reads by share/open class; 403 for every key (existing or not) when
    the caller may not read, 404 when it may not see the entry; reads by
    other orgs append an audit fact, the provider's and anonymous open
    reads do not; audited stale reads on a follower redirect."""
    lead, tok = _world(c)
    for eid, share, open_ in (("uu", "unconditional", "unconditional"),
                              ("un", "unconditional", "none"),
                              ("cc", "conditional", "conditional"),
                              ("nn", "none", "none")):
        _publish(lead, tok, eid, share, open_)
        r = lead.req("PUT", _p(eid, "k"), {"name": "a"}, token=tok["prov"])
        assert r.status == 201, r
    table = {  # who -> statuses for uu, un, cc, nn (existing key)
        "prov": (200, 200, 200, 200), "admin": (200, 200, 200, 200),
        "cons": (200, 200, 403, 403), "prov2": (200, 403, 403, 403),
        "cit": (200, 403, 403, 403), None: (200, 404, 403, 404)}
    for who, want in table.items():
        for eid, st in zip(("uu", "un", "cc", "nn"), want):
            for key in ("k", "missing"):
                r = lead.req("GET", _p(eid, key), token=tok.get(who))
                exp = 404 if st == 200 and key == "missing" else st
                assert r.status == exp, (who, eid, key, r)
                r = lead.req("GET", _p(eid, key, "/history"),
                             token=tok.get(who))
                assert r.status == exp, (who, eid, key, "history", r)
            r = lead.req("GET", "/v1/catalog/%s/records" % eid,
                         token=tok.get(who))
            assert r.status == st, (who, eid, "list", r)
    # audit facts: one per batch of reads by other orgs
    time.sleep(0.5)

    def unaudited():  # the provider's own reads and open data
        for who in ("prov", None):
            r = lead.req("GET", _p("uu", "k"), token=tok.get(who))
            assert r.status == 200, (who, r)
        time.sleep(0.5)
    appends_nothing(lead, unaudited)
    rev = lead.status()["revision"]
    for _ in range(5):
        assert lead.req("GET", _p("uu", "k"), token=tok["cons"]).status == 200
    wait_for(lambda: lead.status()["revision"] > rev, 5, "an audit fact")
    # stale reads on a follower: own data served, audited data redirected
    fol = [x for x in c.nodes if x is not lead][0]
    c.converged()
    r = fol.req("GET", _p("uu", "k") + "?consistency=stale", token=tok["prov"])
    assert r.status == 200, r
    r = fol.req("GET", _p("uu", "k") + "?consistency=stale", token=tok["cons"])
    assert r.status == 307 and r.json["error"]["code"] == "not_leader", r
    assert r.headers["location"].startswith(lead.url)
    r = fol.req("GET", _p("uu", "k") + "?consistency=stale")
    assert r.status == 200, r
    m = lead.req("GET", "/metrics").body.decode()
    vals = dict(line.split(" ", 1) for line in m.splitlines()
                if line.startswith("provcat_") and "{" not in line)
    assert int(vals["provcat_reads_open_anonymous_total"]) >= 1, vals
    assert int(vals["provcat_audit_events_proposed_total"]) >= 5, vals


def test_records_delete_405_and_redirect(c):
    """DELETE on record paths is 405 for everyone; writes on a follower
    redirect to the leader."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    assert lead.req("PUT", _p("e", "k"), {"name": "a"},
                    token=tok["prov"]).status == 201
    for path in (_p("e", "k"), _p("e", "k", "/versions/1"),
                 "/v1/catalog/e"):
        for who in ("prov", "admin"):
            r = lead.req("DELETE", path, token=tok[who])
            assert r.status == 405 and \
                r.json["error"]["code"] == "immutable", (path, r)
    fol = [x for x in c.nodes if x is not lead][0]
    wait_for(lambda: ((fol.status() or {}).get("leader") or {})
             .get("client_url") == lead.url, 10, "leader URL on follower")
    r = fol.req("PUT", _p("e", "k"), {"name": "b"}, token=tok["prov"])
    assert r.status == 307, r
    assert r.headers["location"] == lead.url + _p("e", "k")
    r = fol.req("POST", "/v1/catalog/e/records:batch",
                {"records": [{"key": "z", "value": {"name": "a"}}]},
                token=tok["prov"])
    assert r.status == 307, r
    r = fol.req("GET", _p("e", "k"), token=tok["prov"])
    assert r.status == 307, r


def test_records_restart_keeps_everything(c):
    """Stopping and restarting every node keeps versions, documents and
    hashes."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    r = lead.req("POST", "/v1/catalog/e/records:batch",
                 {"records": [{"key": "k%d" % i, "value": {"name": str(i)}}
                              for i in range(50)]}, token=tok["prov"])
    assert r.status == 200, r
    assert lead.req("PUT", _p("e", "k1"), {"name": "again"},
                    token=tok["prov"]).status == 200
    before = lead.req("GET", _p("e", "k1"), token=tok["prov"]).json
    c.converged()
    for x in c.nodes:
        assert x.stop() == 0
    for x in c.nodes:
        x.start("existing")
    lead = c.wait_ready()
    after = lead.req("GET", _p("e", "k1"), token=tok["prov"])
    assert after.status == 200 and after.json == before, after
    r = lead.req("GET", "/v1/catalog/e/records?limit=1000", token=tok["prov"])
    assert len(r.json["items"]) == 50
    r = lead.req("PUT", _p("e", "k1"), {"name": "3"}, token=tok["prov"],
                 headers={"If-Match": '"2"'})
    assert r.status == 200 and r.json["prev_hash"] == before["hash"], r


def test_records_batch_resumed_import(c):
    """Re-running an import with "on_conflict": "skip_identical" writes only
    what is missing; identical records answer op "unchanged" with their
    current version, in request order."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    first = {"records": [{"key": "k%d" % i, "value": {"name": "v%d" % i},
                          "if_version": 0} for i in range(5)]}
    r = lead.req("POST", "/v1/catalog/e/records:batch", first,
                 token=tok["prov"])
    assert r.status == 200, r
    written = {it["key"]: it for it in r.json["items"]}
    again = dict(first, on_conflict="skip_identical")
    again["records"] = first["records"] + [
        {"key": "k9", "value": {"name": "v9"}, "if_version": 0}]
    r = lead.req("POST", "/v1/catalog/e/records:batch", again,
                 token=tok["prov"])
    assert r.status == 200, r
    items = r.json["items"]
    assert [it["key"] for it in items] == ["k%d" % i for i in range(5)] + \
        ["k9"]
    for it in items[:5]:
        assert it["op"] == "unchanged", it
        assert it["version"] == 1
        assert it["hash"] == written[it["key"]]["hash"]
    assert items[5]["op"] == "create" and items[5]["version"] == 1
    assert r.json["revision"] == items[5]["revision"]
    # All identical: nothing appended, the answer still lists every item.
    r = appends_nothing(lead, lambda: lead.req(
        "POST", "/v1/catalog/e/records:batch", again, token=tok["prov"]))
    assert r.status == 200, r
    assert [it["op"] for it in r.json["items"]] == ["unchanged"] * 6
    r = lead.req("POST", "/v1/catalog/e/records:batch",
                 dict(first, on_conflict="overwrite"), token=tok["prov"])
    assert r.status == 400 and r.json["error"]["field"] == "on_conflict", r


def test_records_raft_log_budget(c):
    """raft counts entries between snapshots, not bytes: with large batch
    entries every node lowers its snapshot threshold to stay within
    --raft-log-budget, snapshots, and the replicas still agree. Each node
    takes (id - 1) eighths off its threshold, so replicas applying the same
    entries do not all snapshot at once. Later snapshots copy the frames
    of earlier ones (docs/node.md), and a node killed and restarted from
    such a snapshot comes back with the same root."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    c.converged(timeout=30)
    th = {n.id: metric(n, "provcat_snapshot_threshold_entries")
          for n in c.nodes}
    assert th[1] >= 128, th
    # Each node retunes on its own 50 ms timer too, when the barriers it
    # has applied may differ by a few: the eighths hold within 1/32.
    for n in c.nodes:
        want = th[1] - th[1] // 8 * ((n.id - 1) % 4)
        assert abs(th[n.id] - want) <= th[1] // 32, (n.id, want, th)
    pad = "x" * 2000
    for b in range(200):  # ~210 KB per entry, ~42 MB in all
        body = {"records": [{"key": "b%d-%d" % (b, i),
                             "value": {"name": pad, "n": i}}
                            for i in range(100)]}
        r = lead.req("POST", "/v1/catalog/e/records:batch", body,
                     token=tok["prov"])
        assert r.status == 200, r
    c.converged(timeout=30)
    for n in c.nodes:
        th = metric(n, "provcat_snapshot_threshold_entries")
        tr = metric(n, "provcat_snapshot_trailing_entries")
        # 1 MiB is ~5 entries of ~210 KB, below the floors: a snapshot is
        # due at 64 entries since the last (or at once, when a retune finds
        # more applied already: it runs every 64) and 16 are kept.
        assert 64 <= th < 128 and tr == 16, (n.id, th, tr)
        assert metric(n, "provcat_snapshots_total") >= 2, n.id
        # The last snapshot copied what the one before had closed: at
        # least the first 64 entries' 6,400 records.
        assert metric(n, "provcat_snapshot_reused_facts") >= 6400, n.id
        assert metric(n, "provcat_snapshot_cache_bytes") > 0, n.id
    r = lead.req("GET", "/v1/catalog/e/records/b199-99", token=tok["prov"])
    assert r.status == 200 and r.json["value"]["n"] == 99, r
    x = [n for n in c.nodes if n is not lead][0]
    x.kill()
    x.start("existing")
    c.converged(timeout=30)  # x's revision and root, from its snapshot


def _free_file(c, x):
    """The file node x reads its free disk bytes from (test hook)."""
    return "%s-free%d" % (c.dir, x.id)


def _set_free(c, x, n):
    with open(_free_file(c, x), "w") as f:
        f.write(str(n))


def test_records_disk_full_507(c):
    """Less than one raft segment free on the nodes' disk: writes,
    linearizable reads and audited reads get 507 insufficient_storage,
    stale reads are served, and once space is back writes resume with
    nothing acknowledged lost (docs/node.md). The disk is a 64 MiB tmpfs filled
    with a file when the tests run as root; otherwise the nodes read their
    free space from the PROVCAT_TEST_DISK_FREE_FILE hook. Every node's disk
    is full at once, so leadership may move (a full leader hands over):
    each request goes to the leader of the moment."""
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", c.dir],
        capture_output=True).returncode == 0
    filler = os.path.join(c.dir, "filler")
    try:
        c.start_all(env=None if mounted else lambda x: {
            "PROVCAT_TEST_DISK_FREE_FILE": _free_file(c, x)})
        lead, tok = _world(c)
        _publish(lead, tok, "df")
        acked = []
        for i in range(5):
            r = lead.req("PUT", _p("df", "k%d" % i), {"name": "v%d" % i},
                         token=tok["prov"])
            assert r.status == 201, r
            acked.append(("k%d" % i, r.json["hash"]))
        # Fill the disk to 2 MiB free, under one 4 MiB segment.
        if mounted:
            st = os.statvfs(c.dir)
            with open(filler, "wb") as f:
                os.posix_fallocate(f.fileno(), 0,
                                   st.f_bavail * st.f_frsize - (2 << 20))
        else:
            for x in c.nodes:
                _set_free(c, x, 2 << 20)
        def at_leader(method, path, body=None, who="prov", ok=(507,)):
            """The leader's answer once it is one of `ok` (a write already
            on its way may still be taken; leadership may be moving)."""
            def once():
                r = c.leader().req(method, path, body, token=tok[who])
                assert r.status in (200, 201, 307, 503, 507), r
                return r if r.status in ok else None
            return wait_for(once, 10, "%s %s to answer %s" % (method, path,
                                                              ok))
        r = at_leader("PUT", _p("df", "late"), {"name": "x"})
        assert r.json["error"]["code"] == "insufficient_storage", r
        assert metric(c.leader(), "provcat_disk_full") == 1
        at_leader("GET", _p("df", "k0"))
        at_leader("GET", _p("df", "k0"), who="cons")  # audit not writable
        at_leader("POST", "/v1/catalog/df/records:batch",
                  {"records": [{"key": "b1", "value": {"name": "b"}}]})
        for x in c.nodes:
            r = x.req("GET", _p("df", "k0") + "?consistency=stale",
                      token=tok["prov"])
            assert r.status == 200 and r.json["hash"] == acked[0][1], r
        # Space back: writes resume, and every acknowledged one is there.
        if mounted:
            os.remove(filler)
        else:
            for x in c.nodes:
                _set_free(c, x, 1 << 30)
        at_leader("PUT", _p("df", "after"), {"name": "y"}, ok=(201,))
        lead = c.leader()
        assert metric(lead, "provcat_disk_full") == 0
        for key, h in acked:
            r = lead.req("GET", _p("df", key), token=tok["prov"])
            assert r.status == 200 and r.json["hash"] == h, (key, r)
        c.converged()
    finally:
        if mounted:
            for x in c.nodes:
                x.kill()
            subprocess.run(["umount", c.dir], check=False)
        for x in c.nodes:
            if os.path.exists(_free_file(c, x)):
                os.remove(_free_file(c, x))


def test_records_disk_full_leader_hands_over(c):
    """Only the leader's disk is full: it hands leadership to a follower
    with room, so the cluster keeps taking writes; the old leader
    redirects them and still serves stale reads."""
    try:
        c.start_all(env=lambda x: {
            "PROVCAT_TEST_DISK_FREE_FILE": _free_file(c, x)})
        old, tok = _world(c)
        _publish(old, tok, "dh")
        r = old.req("PUT", _p("dh", "k"), {"name": "a"}, token=tok["prov"])
        assert r.status == 201, r
        _set_free(c, old, 1 << 20)
        new = wait_for(lambda: c.leader() is not old and c.leader(), 10,
                       "leadership to leave the full disk")
        r = new.req("PUT", _p("dh", "k2"), {"name": "b"}, token=tok["prov"])
        assert r.status == 201, r
        assert metric(old, "provcat_disk_full") == 1
        assert metric(new, "provcat_disk_full") == 0
        # Until the new leader's URL reaches it (its member fact): 503.
        r = wait_for(lambda: (lambda r: r if r.status != 503 else None)(
            old.req("PUT", _p("dh", "k3"), {"name": "c"}, token=tok["prov"])),
            5, "the old leader to redirect")
        assert r.status == 307 and new.client in r.headers["location"], r
        c.converged()
        r = old.req("GET", _p("dh", "k2") + "?consistency=stale",
                    token=tok["prov"])
        assert r.status == 200, r
    finally:
        for x in c.nodes:
            if os.path.exists(_free_file(c, x)):
                os.remove(_free_file(c, x))



# A disk filled on purpose (a tmpfs of its own, or the test hook): alone.
SERIAL_TESTS = {"test_records_disk_full_507",
                "test_records_disk_full_leader_hands_over"}

TESTS = [
    (test_records_raft_log_budget,
     {"extra": ["--raft-log-budget", "1M"]}),
    (test_records_batch_resumed_import, {}),
    (test_records_lifecycle, {}),
    (test_records_cas_conflicts, {}),
    (test_records_validation, {}),
    (test_records_batch_atomicity, {}),
    (test_records_history_chain, {}),
    (test_records_list_paging_stable, {}),
    (test_records_read_rules_and_audit, {}),
    (test_records_delete_405_and_redirect, {}),
    (test_records_restart_keeps_everything, {}),
    (test_records_disk_full_507,
     {"extra": ["--segment-size", "4M"], "start": False}),
    (test_records_disk_full_leader_hands_over, {"start": False}),
]
