# SPDX-License-Identifier: MIT
"""Reconciliation (issue #17): GET /v1/ledger/digests against a Python
recomputation of docs/format.md's construction, at earlier revisions, on
every node and after a restart; provcat-reconcile's subcommands against
live clusters and backups: `nodes` on a real divergence (a backup restored
into a separate single-node cluster and modified there) naming exactly the
changed keys, `versions` and `revisions` field by field, `source` with a
CSV and a JSONL export holding missing, extra and changed rows."""
import hashlib
import json
import os
import struct
import subprocess
import urllib.parse

from cluster import Cluster, wait_for

BUILD = os.environ.get("BUILD", "build")
TOOL = os.path.abspath(os.path.join(BUILD, "provcat-reconcile"))

FIELDS = [{"name": "name", "type": "string", "required": True},
          {"name": "n", "type": "integer", "required": False},
          {"name": "x", "type": "number", "required": False},
          {"name": "ok", "type": "boolean", "required": False},
          {"name": "d", "type": "date", "required": False},
          {"name": "o", "type": "object", "required": False}]


def _world(c):
    """Org dept (provider) with principals prov (provider), cons (consumer
    of dept2), aud (auditor), op (operator); returns (leader, tokens)."""
    lead = c.leader()
    tok = {"admin": c.token}
    for oid in ("dept", "dept2"):
        r = lead.req("POST", "/v1/orgs",
                     {"id": oid, "name": oid, "level": "province",
                      "kind": "agency", "parent": "authority"},
                     token=c.token)
        assert r.status == 201, r
    for pid, org, roles in (("prov", "dept", ["provider"]),
                            ("cons", "dept2", ["consumer"]),
                            ("aud", "authority", ["auditor"]),
                            ("op", "authority", ["operator"])):
        r = lead.req("POST", "/v1/principals",
                     {"id": pid, "org": org, "roles": roles}, token=c.token)
        assert r.status == 201, r
        tok[pid] = r.json["token"]
    return lead, tok


def _publish(lead, tok, eid):
    body = {"id": eid, "title": eid, "description": "", "provider": "dept",
            "theme": "t", "keywords": [], "fields": FIELDS,
            "share": {"class": "unconditional", "conditions": ""},
            "open": {"class": "none", "conditions": "", "basis": "art. 12"},
            "update_frequency": "daily", "security_level": 2,
            "scope": "province"}
    r = lead.req("POST", "/v1/catalog", body, token=tok["prov"])
    assert r.status == 201, r
    r = lead.req("POST", "/v1/catalog/%s/submit" % eid, token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                 {"decision": "approve", "override_duplicate": True,
                  "reason": "same schema on purpose"}, token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "published", r


def _rp(eid, key, suffix=""):
    return "/v1/catalog/%s/records/%s%s" % (
        eid, urllib.parse.quote(key, safe=""), suffix)


def _batch(lead, tok, eid, records):
    for i in range(0, len(records), 1000):
        r = lead.req("POST", "/v1/catalog/%s/records:batch" % eid,
                     {"records": [{"key": k, "value": v}
                                  for k, v in records[i:i + 1000]]},
                     token=tok["prov"], timeout=60)
        assert r.status == 200, r


def _put(lead, tok, eid, key, value):
    r = lead.req("PUT", _rp(eid, key), value, token=tok["prov"])
    assert r.status in (200, 201), r
    return r.json


# ---- the digest, recomputed here as docs/format.md writes it down ----------

def _digest(items):
    """(records, versions, digest hex) of per-record items {key, version,
    hash}: H(0x03 || u64be records || u64be versions || sum of the heads as
    little-endian integers mod 2^256, 32 bytes little-endian)."""
    total = 0
    for it in items:
        total += int.from_bytes(bytes.fromhex(it["hash"]), "little")
    total %= 1 << 256
    records = len(items)
    versions = sum(it["version"] for it in items)
    data = (b"\x03" + struct.pack(">QQ", records, versions) +
            total.to_bytes(32, "little"))
    return records, versions, hashlib.blake2b(data,
                                              digest_size=32).hexdigest()


def _digests_all(node, token, query=""):
    """Every page of GET /v1/ledger/digests: (revision, {entry: item})."""
    out, after, rev = {}, None, None
    while True:
        q = query + ("&after=" + after if after else "")
        r = node.req("GET", "/v1/ledger/digests?limit=1" + q, token=token)
        assert r.status == 200, r
        if rev is None:
            rev = r.json["revision"]
        assert r.json["revision"] == rev, r
        for it in r.json["items"]:
            out[it["entry"]] = it
        after = r.json["next"]
        if after is None:
            return rev, out


def _digests_entry(node, token, eid, query="", limit=7):
    """Every page of ?entry=: (summary of the first page, items)."""
    items, after, head = [], None, None
    while True:
        q = "/v1/ledger/digests?entry=%s&limit=%d%s" % (eid, limit, query)
        r = node.req("GET", q + ("&after=" + after if after else ""),
                     token=token)
        assert r.status == 200, r
        summary = {k: r.json[k] for k in ("entry", "revision", "records",
                                          "versions", "digest")}
        assert head is None or summary == head, (summary, head)
        head = summary
        items.extend(r.json["items"])
        after = r.json["next"]
        if after is None:
            return head, items


def test_reconcile_digests(c):
    """Digests of two entries recomputed here from the per-record form
    (paged, in key order), equal to the all-entries form; at an earlier
    revision equal to what was read then; the same on every node at one
    revision and after a node restarts; who may read them; bad
    parameters."""
    lead, tok = _world(c)
    for e in ("e1", "e2", "e3"):
        _publish(lead, tok, e)
    _batch(lead, tok, "e1", [("k%03d" % i, {"name": "n%d" % i, "n": i})
                             for i in range(60)])
    _batch(lead, tok, "e2", [("z%d" % i, {"name": "z"}) for i in range(5)])
    rev0, before = _digests_all(lead, tok["admin"])
    assert set(before) == {"e1", "e2", "e3"}, before
    assert before["e3"]["records"] == 0 and before["e3"]["versions"] == 0
    assert before["e3"]["digest"] == _digest([])[2]
    # Updates, a retirement and a new key move e1's digest; e2 stays.
    _put(lead, tok, "e1", "k005", {"name": "changed"})
    _put(lead, tok, "e1", "k005", {"name": "again", "n": 5})
    r = lead.req("POST", _rp("e1", "k007", "/retire"), {"reason": "gone"},
                 token=tok["prov"])
    assert r.status == 200, r
    _put(lead, tok, "e1", "new-key \u00e9", {"name": "new"})
    rev1, after = _digests_all(lead, tok["aud"])
    assert rev1 > rev0
    assert after["e2"] == before["e2"], (after["e2"], before["e2"])
    assert after["e1"]["records"] == 61 and after["e1"]["versions"] == 64, \
        after["e1"]
    head, items = _digests_entry(lead, tok["op"], "e1")
    assert head["revision"] == rev1 and len(items) == 61, head
    keys = [it["key"] for it in items]
    assert keys == sorted(keys, key=lambda k: k.encode()), keys
    assert _digest(items) == (head["records"], head["versions"],
                              head["digest"]), head
    assert head["digest"] == after["e1"]["digest"]
    for it in (items[5], items[7], items[-1]):
        r = lead.req("GET", _rp("e1", it["key"]), token=tok["prov"])
        assert r.status == 200, r
        assert (r.json["version"], r.json["hash"], r.json["revision"]) == \
            (it["version"], it["hash"], it["revision"]), (r.json, it)
    # At the earlier revision: the same digest as read then, and the
    # per-record form as it was (no new key, k005 at version 1).
    _, again = _digests_all(lead, tok["admin"], "&at_revision=%d" % rev0)
    assert again == before, (again, before)
    head0, items0 = _digests_entry(lead, tok["admin"], "e1",
                                   "&at_revision=%d" % rev0)
    assert head0["digest"] == before["e1"]["digest"], head0
    assert _digest(items0)[2] == before["e1"]["digest"]
    assert len(items0) == 60 and items0[5]["version"] == 1, items0[5]
    # Every node at one revision, stale reads with min_revision.
    c.converged()
    for x in c.nodes:
        _, got = _digests_all(x, tok["aud"], "&consistency=stale"
                              "&min_revision=%d&at_revision=%d" % (rev1, rev1))
        assert got == after, (x.id, got, after)
    # A restarted follower rebuilds the same state from its snapshot/log.
    fol = next(x for x in c.nodes if x is not lead)
    assert fol.stop() == 0
    fol.start("existing")
    wait_for(lambda: fol.status(), 20, "the follower back")
    c.converged()
    _, got = _digests_all(fol, tok["aud"], "&consistency=stale"
                          "&min_revision=%d&at_revision=%d" % (rev1, rev1))
    assert got == after, got
    # Access: 401 public, 403 provider and consumer, 404 unknown entry.
    assert lead.req("GET", "/v1/ledger/digests").status == 401
    for who in ("prov", "cons"):
        r = lead.req("GET", "/v1/ledger/digests", token=tok[who])
        assert r.status == 403 and r.json["error"]["code"] == "forbidden", r
        r = lead.req("GET", "/v1/ledger/digests?entry=e1", token=tok[who])
        assert r.status == 403, r
    r = lead.req("GET", "/v1/ledger/digests?entry=nope", token=tok["aud"])
    assert r.status == 404, r
    # An entry that did not exist yet at the revision asked.
    r = lead.req("GET", "/v1/ledger/digests?entry=e3&at_revision=3",
                 token=tok["aud"])
    assert r.status == 404, r
    for q, field in (("entry=a%2Fb", "entry"), ("at_revision=0",
                                                "at_revision"),
                     ("at_revision=x", "at_revision"), ("limit=1001",
                                                        "limit"),
                     ("after=not!a-cursor", "after"), ("prefix=k", "prefix"),
                     ("at_revision=%d" % (rev1 + 1000), "at_revision")):
        r = lead.req("GET", "/v1/ledger/digests?" + q, token=tok["aud"])
        assert r.status == 400 and r.json["error"].get("field") == field, \
            (q, r)


def test_reconcile_format_example(c):
    """docs/format.md's worked example of an entry digest: the Python it
    gives, run here, prints the digest the document states."""
    del c
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "format.md")) as f:
        doc = f.read()
    sec = doc[doc.index("## Entry digests"):]
    sec = sec[:sec.index("\n## ")]
    want = sec[sec.index("digest = ") + 9:].split()[0]
    code = sec[sec.index("```python\n") + 10:]
    code = code[:code.index("```")]
    p = subprocess.run(["python3", "-c", code], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p
    assert p.stdout.strip() == want, (p.stdout, want)
    assert len(want) == 64
    heads = [{"hash": "44059c3415a5a71d391f4ee5574a9d28baaf28f42d7f2d3b"
                      "c438ebe1ee8041db", "version": 2},
             {"hash": "ff" * 32, "version": 1},
             {"hash": "02" + "00" * 31, "version": 2}]
    assert _digest(heads) == (3, 5, want)
    flat = " ".join(sec.split())
    assert _digest([])[2] == flat.split("its digest is `")[1][:64]


TESTS = [
    (test_reconcile_format_example, {"start": False}),
    (test_reconcile_digests, {}),
]
