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

from cluster import Cluster, create_orgs, create_principals, wait_for

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
    create_orgs(lead, c.token, ("dept", "dept2"))
    create_principals(lead, c.token, (("prov", "dept", ["provider"]),
                                      ("cons", "dept2", ["consumer"]),
                                      ("aud", "authority", ["auditor"]),
                                      ("op", "authority", ["operator"])), tok)
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
    # The node may append a fact of its own (a tick) between two reads:
    # the entry form is asked at the same revision.
    head, items = _digests_entry(lead, tok["op"], "e1",
                                 "&at_revision=%d" % rev1)
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



# ---- provcat-reconcile ------------------------------------------------------

def _tool(c, *args, token=None, env=None, cwd=None, timeout=300):
    """Run provcat-reconcile with a token file (the admin's by default)."""
    tf = os.path.join(c.dir, "reconcile.token")
    with open(tf, "w") as f:
        f.write((token or c.token) + "\n")
    e = dict(os.environ,
             PROVCAT_ENDPOINTS=",".join(x.url for x in c.nodes))
    e.update(env or {})
    return subprocess.run([TOOL, "--token-file", tf, "--no-progress"] +
                          list(args), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or c.dir, env=e)


def _json(p):
    assert p.stdout, p
    return json.loads(p.stdout)


def _backup(c, lead, path):
    r = lead.req("GET", "/v1/backup", token=c.token, timeout=300)
    assert r.status == 200, r
    with open(path, "wb") as f:
        f.write(r.body)
    return int(r.headers["x-provcat-backup-revision"])


def test_reconcile_nodes_divergence(c):
    """Three nodes agree (exit 0). A backup restored into a separate
    single-node cluster and modified there (an update, a retirement, a new
    key in one entry, an update in another): `nodes` over all four names
    exactly those keys, each node's head, and the last revision the
    ledgers share, which is the backup's; exit 1. The report files hold
    the same JSON."""
    lead, tok = _world(c)
    _publish(lead, tok, "e1")
    _publish(lead, tok, "e2")
    _batch(lead, tok, "e1", [("k%03d" % i, {"name": "n%d" % i, "n": i})
                             for i in range(200)])
    _batch(lead, tok, "e2", [("z%02d" % i, {"name": "z"}) for i in range(50)])
    c.converged()
    urls = [x.url for x in c.nodes]
    p = _tool(c, "nodes", *urls)
    assert p.returncode == 0, p
    assert "all nodes agree" in p.stdout and "entries: 2 compared, 0 differ" \
        in p.stdout, p.stdout
    p = _tool(c, "-o", "json", "nodes", ",".join(urls))
    assert p.returncode == 0, p
    rep = _json(p)
    assert rep["agree"] and rep["ledger"]["agree"], rep
    assert rep["entries_compared"] == 2 and rep["entries"] == [], rep
    # A token without the role: the nodes cannot be compared.
    p = _tool(c, "nodes", *urls, token=tok["prov"])
    assert p.returncode == 1 and "403" in p.stderr, p

    # docs/reconcile.md, "A drill": `provcat backup`, a node started on
    # it with --restore, then `nodes` over all of them.
    path = os.path.join(c.dir, "drill.snap")
    tf = os.path.join(c.dir, "op.token")
    with open(tf, "w") as f:
        f.write(c.token + "\n")
    p = subprocess.run([os.path.join(os.path.dirname(TOOL), "provcat"),
                        "--endpoints", ",".join(urls), "--token-file", tf,
                        "backup", path], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and "backup of revision" in p.stdout, p
    brev = int(p.stdout.split("backup of revision ")[1].split()[0])
    d = Cluster(n=1, start=False)
    d.spec = ""  # no --cluster: the backup says which cluster it is
    try:
        with open(c.token_file) as f, open(d.token_file, "w") as g:
            g.write(f.read())
        x = d.nodes[0]
        x.start("existing", extra=["--restore", path])
        d.wait_ready(timeout=30)
        _put(x, tok, "e1", "k010", {"name": "changed on the copy", "n": 10})
        r = x.req("POST", _rp("e1", "k020", "/retire"), {"reason": "copy"},
                  token=tok["prov"])
        assert r.status == 200, r
        _put(x, tok, "e1", "zz-new", {"name": "only on the copy"})
        _put(x, tok, "e2", "z03", {"name": "z3"})
        # The original cluster moves past the copy with facts that are not
        # records, so that both are compared at the copy's revision.
        xrev = x.status()["revision"]
        i = 0
        while lead.status()["revision"] < xrev + 3:
            create_orgs(lead, c.token, ("later%d" % i,))
            i += 1
        c.converged()
        base = os.path.join(c.dir, "drill")
        p = _tool(c, "-o", "json", "nodes", "--report", base,
                  *(urls + [x.url]))
        assert p.returncode == 1, p
        rep = _json(p)
        assert not rep["agree"] and not rep["ledger"]["agree"], rep
        # Compared at the copy's revision, the lowest: all its writes in.
        assert rep["revision"] == min(n["revision"] for n in rep["nodes"])
        assert rep["revision"] >= xrev, (rep, xrev)
        assert rep["ledger"]["agree_up_to"] == brev, (rep["ledger"], brev)
        got = {e["entry"]: sorted(k["key"] for k in e["keys"])
               for e in rep["entries"]}
        assert got == {"e1": ["k010", "k020", "zz-new"], "e2": ["z03"]}, got
        for e in rep["entries"]:
            assert "inconsistent" not in e, e
            for k in e["keys"]:
                heads = k["heads"]
                assert all(heads[u] == heads[urls[0]] for u in urls), k
                ours, theirs = heads[urls[0]], heads[x.url]
                if k["key"] == "zz-new":
                    assert ours is None and theirs["version"] == 1, k
                else:
                    assert theirs["version"] == ours["version"] + 1, k
                    assert theirs["hash"] != ours["hash"], k
        # The copy's own digests, recomputed here, are what it reported.
        head, items = _digests_entry(x, tok["admin"], "e1",
                                     "&at_revision=%d" % rep["revision"])
        assert _digest(items)[2] == next(
            e for e in rep["entries"] if e["entry"] == "e1"
        )["digests"][x.url]["digest"]
        with open(base + ".json") as f:
            assert json.load(f) == rep
        with open(base + ".txt") as f:
            txt = f.read()
        assert "the nodes do NOT agree" in txt and "zz-new" in txt, txt
        assert "agree up to revision %d" % brev in txt, txt
        if os.environ.get("RECONCILE_SHOW"):
            print(txt)
        # Each at its own revision: the same keys.
        p = _tool(c, "-o", "json", "nodes", "--current", *(urls + [x.url]))
        assert p.returncode == 1, p
        got = {e["entry"]: sorted(k["key"] for k in e["keys"])
               for e in _json(p)["entries"]}
        assert got == {"e1": ["k010", "k020", "zz-new"], "e2": ["z03"]}, got
        # A node that is down: named, exit 1.
        x.stop()
        p = _tool(c, "--timeout", "2000", "nodes", urls[0], x.url)
        assert p.returncode == 1 and x.url in p.stderr, p
    finally:
        d.close()


def test_reconcile_usage(c):
    """--help for every subcommand (exit 0, with examples); usage errors
    exit 2 naming the problem; a missing record or entry exits 1."""
    del c
    for cmd in ("nodes", "versions", "revisions", "source"):
        p = subprocess.run([TOOL, cmd, "--help"], capture_output=True,
                           text=True)
        assert p.returncode == 0 and "Examples:" in p.stdout, p
        assert "usage: provcat-reconcile" in p.stdout, p
        p = subprocess.run([TOOL, "help", cmd], capture_output=True,
                           text=True)
        assert p.returncode == 0 and "Examples:" in p.stdout, p
    p = subprocess.run([TOOL, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "Exit status" in p.stdout, p
    for args, msg in ((["nodes", "http://127.0.0.1:1"], "at least two"),
                      (["versions", "e1"], "ENTRY and KEY"),
                      (["versions", "e1", "k", "--from", "0"], "--from"),
                      (["revisions", "e1"], "--from R1 is required"),
                      (["revisions", "e1", "--from", "5", "--to", "3"],
                       "after"),
                      (["source", "e1", "f.csv"], "--key"),
                      (["source", "e1", "f.txt", "--key", "id"], "--format"),
                      (["source", "e1", "f.csv", "--key", "id", "--delimiter",
                        "ab"], "--delimiter"),
                      (["frobnicate"], "unknown command"),
                      (["-o", "yaml", "nodes"], "-o")):
        p = subprocess.run([TOOL] + args, capture_output=True, text=True)
        assert p.returncode == 2 and msg in p.stderr, (args, p)
    p = subprocess.run([TOOL], capture_output=True, text=True)
    assert p.returncode == 2 and "commands:" in p.stderr, p



# ---- source ---------------------------------------------------------------

N_SRC = 300


def _src_value(i):
    names = {1: 'Smith, "J"', 2: "two\nlines", 3: "\u738b\u5c0f\u660e"}
    return {"name": names.get(i, "name %d" % i), "n": i, "x": i / 4,
            "ok": i % 3 == 0, "d": "2024-%02d-%02d" % (i % 12 + 1,
                                                        i % 28 + 1),
            "o": {"a": i}}


def _source_world(c):
    """Entry e1 with N_SRC typed records; r0007 retired; r0009's only
    version redacted (an accepted personal-information objection)."""
    lead, tok = _world(c)
    _publish(lead, tok, "e1")
    _batch(lead, tok, "e1", [("r%04d" % i, _src_value(i))
                             for i in range(N_SRC)])
    r = lead.req("POST", _rp("e1", "r0007", "/retire"), {"reason": "gone"},
                 token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/objections",
                 {"entry": "e1", "key": "r0009",
                  "kind": "personal_information",
                  "description": "this is about me"}, token=tok["cons"])
    assert r.status == 201, r
    oid = r.json["id"]
    r = lead.req("POST", "/v1/objections/%s/decide" % oid,
                 {"decision": "accept", "reason": "checked"},
                 token=tok["admin"])
    assert r.status == 200, r
    r = lead.req("POST", _rp("e1", "r0009", "/versions/1/redact"),
                 {"objection": oid, "reason": "article 16"},
                 token=tok["admin"])
    assert r.status == 200, r
    return lead, tok


# What the export changes, and what the report must say of each key.
SRC_CHANGED = {"r0010": [("name", "changed")], "r0011": [("n", "changed")],
               "r0012": [("x", "changed")], "r0013": [("ok", "changed")],
               "r0014": [("d", "changed")], "r0015": [("o", "changed")],
               "r0016": [("n", "type_differs")],
               "r0017": [("name", "missing_in_source")]}
SRC_EXTRA = ["r0100", "r0101", "r0102", "r0103"]  # not in the export
SRC_MISSING = ["r0007", "s0001", "s0002", "s0003", "s0004", "s0005"]


def _export_rows():
    """(key, values) rows of the export, with the changes above, the
    source-only keys, and r0020 twice; shuffled."""
    import random
    rows = []
    for i in range(N_SRC):
        k = "r%04d" % i
        if k in SRC_EXTRA:
            continue
        v = _src_value(i)
        if k == "r0010":
            v["name"] = "renamed"
        elif k == "r0011":
            v["n"] = 12
        elif k == "r0012":
            v["x"] = 99.5
        elif k == "r0013":
            v["ok"] = not v["ok"]
        elif k == "r0014":
            v["d"] = "1999-12-31"
        elif k == "r0015":
            v["o"] = {"a": 99}
        elif k == "r0016":
            v["n"] = "abc"
        elif k == "r0017":
            v["name"] = None
        rows.append((k, v))
    for j in range(1, 6):
        rows.append(("s%04d" % j, {"name": "source only", "n": j}))
    rows.append(("r0020", dict(_src_value(20), name="the repeat")))
    random.Random(17).shuffle(rows)
    return rows


def _csv_cell(col, v, i):
    """A cell written as exports do: integers sometimes as "12.0",
    booleans as 1/0 or TRUE/false, objects with spaces, text quoted when it
    must be."""
    if v is None:
        return ""
    if col == "n" and isinstance(v, int):
        return "%d.0" % v if v % 2 == 0 else str(v)
    if col == "ok":
        return ("1" if v else "0") if i % 2 else ("TRUE" if v else "false")
    if col == "o":
        return '"{ ""a"": %d }"' % v["a"]
    if col == "x":
        return repr(v)
    s = str(v)
    if any(ch in s for ch in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def _write_csv(path, rows):
    """The export as CSV: a BOM, CRLF, an ignored `note` column, a row with
    a cell too few (invalid); returns that row's line."""
    cols = ["id", "name", "n", "x", "ok", "d", "o", "note"]
    lines = [",".join(cols)]
    bad_line = None
    for i, (k, v) in enumerate(rows):
        cells = [k] + [_csv_cell(c, v.get(c), i) for c in cols[1:-1]] + \
            ["note %d, ignored" % i]
        cells[-1] = '"' + cells[-1] + '"'
        lines.append(",".join(cells))
        if i == 40:
            lines.append("bad-row,only two cells")
            bad_line = sum(x.count("\n") + 1 for x in lines)
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    return bad_line


def _write_jsonl(path, rows):
    """The export as JSON Lines; `n` of one row as a string (read as a
    number), a line that is not JSON (invalid); returns its line."""
    lines, bad_line = [], None
    for i, (k, v) in enumerate(rows):
        o = {"id": k}
        o.update({f: x for f, x in v.items() if x is not None})
        if k == "r0030":
            o["n"] = "30"
        lines.append(json.dumps(o, ensure_ascii=False))
        if i == 40:
            lines.append("{not json")
            bad_line = len(lines)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return bad_line


def _check_source_report(rep, bad_line):
    """The report of the export against the records: exactly the keys and
    fields planted, the counts, the redacted and retired records."""
    by = {}
    for it in rep["items"]:
        by.setdefault(it["status"], []).append(it)
    keys = lambda st: sorted(it["key"] for it in by.get(st, []))
    assert keys("missing") == SRC_MISSING, keys("missing")
    assert keys("extra") == SRC_EXTRA, keys("extra")
    assert keys("redacted") == ["r0009"], keys("redacted")
    assert keys("duplicate") == ["r0020"], by.get("duplicate")
    assert keys("differs") == sorted(SRC_CHANGED), keys("differs")
    for it in by["differs"]:
        got = [(f["field"], f["change"]) for f in it["fields"]]
        assert got == SRC_CHANGED[it["key"]], (it, got)
    r16 = next(it for it in by["differs"] if it["key"] == "r0016")
    assert r16["fields"][0]["type"] == "integer"
    assert r16["fields"][0]["provcat"] == 16, r16
    r10 = next(it for it in by["differs"] if it["key"] == "r0010")
    assert r10["fields"][0]["provcat"] == "name 10" and \
        r10["fields"][0]["source"] == "renamed", r10
    r7 = next(it for it in by["missing"] if it["key"] == "r0007")
    assert r7.get("retired_in_provcat") is True, r7
    assert [it["line"] for it in by["invalid"]] == [bad_line], by["invalid"]
    n = rep["counts"]
    assert n == {"source_rows": N_SRC - 4 + 5 + 1 + 1,
                 "provcat_records": N_SRC - 1,
                 "same": N_SRC - 4 - 1 - 1 - len(SRC_CHANGED),
                 "missing": len(SRC_MISSING), "extra": len(SRC_EXTRA),
                 "differs": len(SRC_CHANGED), "redacted": 1,
                 "duplicate": 1, "invalid": 1}, n
    assert rep["agree"] is False
    # Items come in key order (invalid rows first).
    ks = [it["key"] for it in rep["items"] if "key" in it]
    assert ks == sorted(ks, key=lambda k: k.encode()), ks


def test_reconcile_source(c):
    """A CSV export (BOM, CRLF, quoted cells with commas, quotes and line
    breaks, numbers and booleans written other ways, a repeated key, a
    short row) and the same as JSON Lines against the entry: the report
    names exactly the missing, extra and differing keys with the fields;
    the redacted record is reported as such, never as a difference; the
    same from a backup with the cluster stopped; an export that matches
    exits 0; progress on a terminal."""
    lead, tok = _source_world(c)
    # The revision just before r0007 was retired.
    loaded = lead.req("GET", _rp("e1", "r0007"),
                      token=tok["prov"]).json["revision"] - 1
    rows = _export_rows()
    csv = os.path.join(c.dir, "export.csv")
    bad = _write_csv(csv, rows)
    base = os.path.join(c.dir, "rep")
    p = _tool(c, "source", "e1", csv, "--key", "id", "--ignore", "note",
              "--report", base)
    assert p.returncode == 1, p
    assert "missing in provcat 6, extra in provcat 4, differ 8, redacted 1" \
        in p.stdout, p.stdout
    assert p.stderr == "", p.stderr  # no progress without a terminal
    with open(base + ".json") as f:
        live = json.load(f)
    _check_source_report(live, bad)
    assert live["not_compared"] == [], live
    with open(base + ".txt") as f:
        txt = f.read()
    for k in SRC_MISSING + SRC_EXTRA + sorted(SRC_CHANGED):
        assert k in txt, k
    # -o json: the same report on standard output; the default files.
    p = _tool(c, "-o", "json", "source", "e1", csv, "--key", "id",
              "--ignore", "note")
    assert p.returncode == 1 and _json(p) == live, p
    assert os.path.exists(os.path.join(c.dir, "reconcile-e1.json"))
    # As of a revision before r0007 was retired: it is the same then.
    # (r0009's document is gone whatever the revision: redacted.)
    p = _tool(c, "-o", "json", "source", "e1", csv, "--key", "id",
              "--ignore", "note", "--no-report", "--at-revision",
              str(loaded))
    n = _json(p)["counts"]
    assert (n["missing"], n["same"], n["redacted"]) == (5, 287, 1), n
    # Without --ignore the note column is compared as text: every row.
    p = _tool(c, "-o", "json", "source", "e1", csv, "--key", "id",
              "--no-report")
    assert _json(p)["counts"]["differs"] == N_SRC - 4 - 2 + 5 - 5, p.stdout
    # JSON Lines.
    jl = os.path.join(c.dir, "export.jsonl")
    bad = _write_jsonl(jl, rows)
    p = _tool(c, "-o", "json", "source", "e1", jl, "--key", "id",
              "--no-report")
    assert p.returncode == 1, p
    _check_source_report(_json(p), bad)
    # On a terminal: a progress line on standard error.
    from ptyrun import PtyRun
    tf = os.path.join(c.dir, "reconcile.token")
    t = PtyRun([TOOL, "--token-file", tf, "source", "e1", csv, "--key",
                "id", "--ignore", "note", "--no-report"], cwd=c.dir,
               env=dict(os.environ, PROVCAT_ENDPOINTS=lead.url))
    try:
        t.expect(rb"reading .*export\.csv: 100%", 60)
        t.expect(rb"compared 303 source rows with 299 records", 60)
        assert t.wait(60) == 1
    finally:
        t.close()
    # The records list as the tool reads it: values=true gives each item
    # as a read of the record answers; at_revision lists the past.
    r = lead.req("GET", "/v1/catalog/e1/records?values=true&limit=3"
                 "&include_retired=true", token=tok["prov"])
    assert r.status == 200 and len(r.json["items"]) == 3, r
    for it in r.json["items"]:
        one = lead.req("GET", _rp("e1", it["key"]), token=tok["prov"]).json
        assert it == one, (it, one)
    r = lead.req("GET", "/v1/catalog/e1/records?values=true&after=" +
                 urllib.parse.quote(r.json["next"]), token=tok["prov"])
    assert r.status == 200 and r.json["items"][0]["key"] == "r0003", r
    r = lead.req("GET", "/v1/catalog/e1/records?at_revision=%d&limit=1000"
                 % loaded, token=tok["prov"])
    assert r.status == 200 and r.json["revision"] == loaded, r
    r7 = next(it for it in r.json["items"] if it["key"] == "r0007")
    assert r7["version"] == 1 and not r7["retired"], r7
    for q, field in (("values=yes", "values"), ("at_revision=0",
                                                "at_revision"),
                     ("at_revision=%d" % (loaded + 1000), "at_revision")):
        r = lead.req("GET", "/v1/catalog/e1/records?" + q, token=tok["prov"])
        assert r.status == 400 and r.json["error"]["field"] == field, (q, r)
    # An export that matches: the retired record left out, the redacted
    # one in (not compared, and not a difference).
    same = [("r%04d" % i, _src_value(i)) for i in range(N_SRC) if i != 7]
    ok = os.path.join(c.dir, "same.jsonl")
    with open(ok, "w") as f:
        for k, v in same:
            f.write(json.dumps(dict(v, id=k)) + "\n")
    p = _tool(c, "source", "e1", ok, "--key", "id", "--no-report")
    assert p.returncode == 0, p
    assert "same %d, missing in provcat 0, extra in provcat 0, differ 0, " \
        "redacted 1" % (N_SRC - 2) in p.stdout, p.stdout
    # From a backup, with no cluster running: the same report.
    path = os.path.join(c.dir, "backup.snap")
    _backup(c, lead, path)
    for x in c.nodes:
        x.stop()
    p = _tool(c, "-o", "json", "source", "e1", csv, "--key", "id",
              "--ignore", "note", "--backup", path, "--no-report",
              env={"PROVCAT_ENDPOINTS": "http://127.0.0.1:1"})
    assert p.returncode == 1, p
    offline = _json(p)
    _check_source_report(offline, live["items"][0]["line"])
    strip = lambda items: [{k: v for k, v in it.items()} for it in items]
    assert strip(offline["items"]) == strip(live["items"])
    # A damaged backup is refused, naming the place.
    with open(path, "r+b") as f:
        f.seek(200)
        b = f.read(1)
        f.seek(200)
        f.write(bytes([b[0] ^ 0xff]))
    p = _tool(c, "source", "e1", csv, "--key", "id", "--backup", path,
              "--no-report")
    assert p.returncode == 1 and "frame 1" in p.stderr, p



def test_reconcile_versions_revisions(c):
    """`versions`: two versions field by field (default the last two,
    --from/--to), a retirement, the same document twice (exit 0), a
    redacted version reported as such; `revisions`: created, updated,
    corrected... statuses with their fields between two revisions; both
    again from a backup with the cluster stopped, with the same answers."""
    lead, tok = _source_world(c)  # r0009's version 1 is redacted
    r0 = lead.status()["revision"]
    _put(lead, tok, "e1", "r0001", {"name": "Smith", "n": 1, "x": 0.25,
                                    "d": "2024-02-02"})
    _put(lead, tok, "e1", "r0001", {"name": "Smith", "n": 1, "x": 0.25,
                                    "d": "2024-02-02"})  # the same again
    _put(lead, tok, "e1", "r0009", {"name": "after the redaction"})
    r = lead.req("POST", _rp("e1", "r0002", "/retire"), {"reason": "gone"},
                 token=tok["prov"])
    assert r.status == 200, r
    _put(lead, tok, "e1", "r0007", {"name": "back"})  # retired before
    _put(lead, tok, "e1", "new", {"name": "new"})
    r1 = lead.status()["revision"]

    def versions(*a, **kw):
        return _tool(c, "-o", "json", "versions", "e1", *a, **kw)

    def check_versions(run):
        p = run("r0001", "--from", "1", "--to", "2")
        assert p.returncode == 1, p
        rep = _json(p)
        got = [(x["field"], x["change"], x["from"], x["to"])
               for x in rep["changes"]]
        assert got == [("name", "changed", 'Smith, "J"', "Smith"),
                       ("o", "removed", {"a": 1}, None),
                       ("ok", "removed", False, None)], got
        assert rep["from"]["version"] == 1 and rep["to"]["version"] == 2
        assert rep["to"]["op"] == "update" and rep["to"]["author"] == "prov"
        # The last two: the same document written twice.
        p = run("r0001")
        assert p.returncode == 0 and _json(p)["changes"] == [], p
        assert _json(p)["from"]["version"] == 2, p.stdout
        # A retirement: the document is gone.
        p = run("r0002")
        rep = _json(p)
        assert p.returncode == 1 and rep["to"]["retired"], rep
        assert {x["change"] for x in rep["changes"]} == {"removed"}, rep
        # A redacted version: reported, not a difference.
        p = run("r0009", "--from", "1")
        rep = _json(p)
        assert p.returncode == 0 and rep["from"]["redacted"], rep
        assert rep["changes"] == [], rep
        p = run("nope")
        assert p.returncode == 1 and "no" in p.stderr, p
        p = run("r0003")  # one version only
        assert p.returncode == 1 and "only version 1" in p.stderr, p

    def check_revisions(run):
        p = run("--from", str(r0), "--to", str(r1))
        assert p.returncode == 1, p
        rep = _json(p)
        got = {x["key"]: (x["status"], x["from_version"], x["to_version"])
               for x in rep["records"]}
        assert got == {"new": ("created", 0, 1),
                       "r0001": ("updated", 1, 3),
                       "r0002": ("retired", 1, 2),
                       "r0007": ("created again", 2, 3),
                       "r0009": ("updated", 1, 2)}, got
        r9 = next(x for x in rep["records"] if x["key"] == "r0009")
        assert r9.get("redacted") is True and r9["changes"] == [], r9
        new = next(x for x in rep["records"] if x["key"] == "new")
        assert new["changes"] == [{"field": "name", "change": "added",
                                   "from": None, "to": "new"}], new
        p = run("--from", str(r0), "--to", str(r1), "--keys-only")
        assert "changes" not in _json(p)["records"][0], p.stdout
        p = run("--from", str(r1 - 1), "--to", str(r1))
        assert [x["key"] for x in _json(p)["records"]] == ["new"], p.stdout
        p = run("--from", str(r1 + 50))
        assert p.returncode == 1 and "give 1 <= --from" in p.stderr, p

    check_versions(versions)
    check_revisions(lambda *a: _tool(c, "-o", "json", "revisions", "e1", *a))
    p = _tool(c, "versions", "e1", "r0001", "--from", "1", "--to", "2")
    assert "VERSION 1" in p.stdout and '"Smith"' in p.stdout, p.stdout
    p = _tool(c, "revisions", "e1", "--from", str(r0))
    assert "created again" in p.stdout, p.stdout
    path = os.path.join(c.dir, "backup.snap")
    _backup(c, lead, path)
    for x in c.nodes:
        x.stop()
    env = {"PROVCAT_ENDPOINTS": "http://127.0.0.1:1"}
    check_versions(lambda *a: versions(*(a + ("--backup", path)), env=env))
    check_revisions(lambda *a: _tool(c, "-o", "json", "revisions", "e1",
                                     *(a + ("--backup", path)), env=env))


TESTS = [
    (test_reconcile_format_example, {"start": False}),
    (test_reconcile_usage, {"start": False}),
    (test_reconcile_digests, {}),
    (test_reconcile_nodes_divergence, {}),
    (test_reconcile_source, {"n": 1}),
    (test_reconcile_versions_revisions, {"n": 1}),
]
