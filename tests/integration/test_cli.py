# SPDX-License-Identifier: MIT
"""The provcat CLI against a real 3-node cluster: every command, its table
and JSON output and exit codes (0 done, 1 failed with the server's
message, 2 usage); an import of 100k records exported back identical, an
interrupted import resumed; a backup verified offline and a corrupted one
rejected. The last test checks that every command of `provcat --help` was
driven here."""
import json
import os
import subprocess
import time

import test_share as share
from cluster import Node, free_ports, wait_for
from test_records import FIELDS, _canon, _publish, _world

BUILD = os.environ.get("BUILD", "build")
CLI = os.path.abspath(os.path.join(BUILD, "provcat"))
NODE = os.path.abspath(os.path.join(BUILD, "provcat-node"))
DRIVEN = set()


def _commands():
    out = subprocess.run([CLI, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out
    names, on = [], False
    for line in out.stdout.splitlines():
        if line == "commands:":
            on = True
        elif on and line.startswith("  "):
            words = line.split()
            two = " ".join(words[:2])
            names.append(two if two in TWO_WORD else words[0])
        elif on:
            on = False
    return names


TWO_WORD = {
    "members list", "members add", "members remove", "leader transfer",
    "org create", "org list", "org get", "principal create",
    "principal revoke", "principal token", "catalog create",
    "catalog update", "catalog submit", "catalog review", "catalog retire",
    "catalog get", "catalog list", "catalog history", "ledger root",
    "ledger proof", "ledger consistency", "ledger verify", "ledger facts",
    "share request", "share decide", "share list", "share get",
    "grants list", "grants get", "grants revoke", "lists responsibility",
    "lists demand", "lists negative", "lists open", "open request",
    "open decide", "open list", "open get", "calendar get", "calendar set",
    "objection file", "objection decide", "objection list",
    "objection get"}


class Run:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    @property
    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "<rc %d out %r err %r>" % (self.rc, self.out[-500:],
                                          self.err[-500:])


def cli(c, *args, token=None, stdin=None, endpoints=None, extra=(),
        timeout=300):
    """Run provcat with the cluster's endpoints and `token` (a string,
    written to a token file) and record the command as driven."""
    argv = [CLI, "--endpoints",
            endpoints or ",".join(x.url for x in c.nodes if x.alive())]
    if token:
        tf = os.path.join(c.dir, "cli.token")
        with open(tf, "w") as f:
            f.write(token + "\n")
        argv += ["--token-file", tf]
    argv += list(extra) + list(args)
    words, skip = [], False
    for a in args:
        if skip or a.startswith("-"):
            skip = a in ("-o", "--output")  # a global option's value
            continue
        words.append(a)
    if words:
        two = " ".join(words[:2])
        DRIVEN.add(two if two in TWO_WORD else words[0])
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    return Run(p)


def test_cli_usage_and_help(c):
    """--help everywhere with an example; usage errors exit 2."""
    names = _commands()
    assert len(names) >= 55, names
    for name in names:
        r = subprocess.run([CLI] + name.split() + ["--help"],
                           capture_output=True, text=True)
        assert r.returncode == 0, (name, r.stderr)
        assert r.stdout.startswith("usage: provcat " + name), r.stdout
        assert "\nexample:\n  provcat " in r.stdout or \
            "\nexample:\n  echo " in r.stdout, (name, r.stdout)
    for argv in ([], ["nosuch"], ["catalog"], ["catalog", "nosuch"],
                 ["--bogus", "status"], ["-o", "yaml", "status"],
                 ["put"], ["put", "noslash"], ["get", "e/k", "--version",
                                               "x"],
                 ["import", "e"], ["members", "add", "x", "a", "b"],
                 ["status", "--nope"]):
        r = subprocess.run([CLI, "--endpoints", c.nodes[0].url] + argv,
                           capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 2, (argv, r.returncode, r.stderr)
        assert r.stderr.startswith("provcat: " if argv else "usage: "), \
            (argv, r.stderr)
    # No endpoints at all: usage, before any network.
    env = {k: v for k, v in os.environ.items() if k != "PROVCAT_ENDPOINTS"}
    r = subprocess.run([CLI, "status"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 2 and "endpoints" in r.stderr, r.stderr


def test_cli_cluster(c):
    """status, members list/add/remove and leader transfer."""
    tok = c.token
    r = cli(c, "status")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["ID", "URL", "STATE"], lines
    assert len(lines) == 4 and sum(" leader " in l for l in lines) == 1, r
    # Columns line up: every row's URL starts where the header's does.
    col = lines[0].index("URL")
    assert all(l[col:col + 7] == "http://" for l in lines[1:]), lines
    r = cli(c, "-o", "json", "status")
    st = r.json
    assert sorted(s["id"] for s in st) == [1, 2, 3], st
    assert [s["state"] for s in st].count("leader") == 1
    r = cli(c, "members", "list")
    assert r.rc == 0 and r.out.count("voter") == 3, r
    assert cli(c, "-o", "json", "members", "list").json[0]["role"] == "voter"

    lead = c.leader()
    other = next(x for x in c.nodes if x is not lead)
    r = cli(c, "leader", "transfer", str(other.id), token=tok)
    assert r.rc == 0, r
    wait_for(lambda: c.leader() is other, 10, "leadership to move")
    r = cli(c, "leader", "transfer", "99", token=tok)
    assert r.rc == 1 and "provcat: " in r.err, r

    pp, cp = free_ports(2)
    n4 = Node(c, 4, pp, cp)
    c.nodes.append(n4)
    saved, c.spec = c.spec, ""
    n4.start("existing")
    c.spec = saved
    r = cli(c, "members", "add", "4", n4.peer, n4.url, token=tok,
            endpoints=",".join(x.url for x in c.nodes[:3]))
    assert r.rc == 0 and "catching_up" in r.out, r
    wait_for(lambda: any(m["id"] == 4 and m["role"] == "voter"
                         for m in c.leader().status()["members"]), 20,
             "voter 4")
    c.converged()
    wait_for(lambda: cli(c, "members", "remove", "4", token=tok).rc == 0, 10,
             "removal of 4")
    n4.stop()
    c.nodes.remove(n4)
    r = cli(c, "members", "remove", "3", token=tok)
    assert r.rc == 1 and "409 conflict" in r.err, r
    # Without a token: 401, the server's words on stderr.
    r = cli(c, "members", "remove", "3")
    assert r.rc == 1 and "401 unauthorized" in r.err, r


def test_cli_orgs_principals_catalog(c):
    """org, principal and catalog commands, with their failures."""
    tok = c.token
    r = cli(c, "org", "create", "health", "--name", "Health Dept",
            "--level", "province", "--kind", "agency", "--parent",
            "authority", token=tok)
    assert r.rc == 0 and "name: " in r.out and "Health Dept" in r.out, r
    org2 = os.path.join(c.dir, "org2.json")
    with open(org2, "w") as f:
        json.dump({"id": "edu", "name": "Education", "level": "province",
                   "kind": "agency", "parent": "authority"}, f)
    r = cli(c, "-o", "json", "org", "create", "-f", org2, token=tok)
    assert r.rc == 0 and r.json["id"] == "edu", r
    r = cli(c, "org", "create", "edu", "--name", "x", "--level", "province",
            "--kind", "agency", "--parent", "authority", token=tok)
    assert r.rc == 1 and "409 conflict" in r.err, r
    r = cli(c, "org", "list", token=tok)
    assert r.rc == 0 and r.out.splitlines()[0].split()[:2] == ["ID", "NAME"]
    assert {"authority", "health", "edu"} <= {
        l.split()[0] for l in r.out.splitlines()[1:]}, r
    assert cli(c, "-o", "json", "org", "get", "edu",
               token=tok).json["name"] == "Education"

    r = cli(c, "-o", "json", "principal", "create", "ann", "--org", "health",
            "--roles", "provider,consumer", token=tok)
    assert r.rc == 0, r
    ann = r.json["token"]
    assert r.json["roles"] == ["provider", "consumer"], r.json
    r = cli(c, "-o", "json", "whoami", token=ann)
    assert r.json["id"] == "ann" and r.json["org"] == "health", r
    r = cli(c, "principal", "token", "ann", token=ann)
    assert r.rc == 0 and r.out.startswith("pct_"), r
    ann2 = r.out.strip()
    assert cli(c, "whoami", token=ann).rc == 1
    assert cli(c, "whoami", token=ann2).rc == 0

    entry = {"id": "lic", "title": "Licences", "provider": "health",
             "fields": FIELDS, "share": {"class": "unconditional"},
             "open": {"class": "none"}, "update_frequency": "daily",
             "security_level": 2, "scope": "province"}
    r = cli(c, "-o", "json", "catalog", "create", token=ann2,
            stdin=json.dumps(entry))
    assert r.rc == 0 and r.json["status"] == "draft", r
    entry["title"] = "Licences issued"
    path = os.path.join(c.dir, "lic.json")
    with open(path, "w") as f:
        json.dump(entry, f)
    r = cli(c, "catalog", "update", "lic", "-f", path, token=ann2)
    assert r.rc == 2 and "--if-version" in r.err, r
    r = cli(c, "catalog", "update", "lic", "-f", path, "--if-version", "7",
            token=ann2)
    assert r.rc == 1 and "409 conflict" in r.err, r
    r = cli(c, "-o", "json", "catalog", "update", "lic", "-f", path,
            "--if-version", "1", token=ann2)
    assert r.rc == 0 and r.json["version"] == 2, r
    assert cli(c, "catalog", "submit", "lic", token=ann2).rc == 0
    r = cli(c, "catalog", "review", "lic", "reject", token=tok)
    assert r.rc == 1 and "400 bad_request" in r.err, r
    r = cli(c, "catalog", "review", "lic", "maybe", token=tok)
    assert r.rc == 2
    r = cli(c, "-o", "json", "catalog", "review", "lic", "approve",
            token=tok)
    assert r.rc == 0 and r.json["status"] == "published", r
    r = cli(c, "catalog", "get", "lic", token=ann2)
    assert r.rc == 0 and "status:" in r.out and "published" in r.out, r
    r = cli(c, "catalog", "list", "--status", "published", token=ann2)
    assert r.rc == 0, r
    rows = r.out.splitlines()
    assert rows[0].split() == ["ID", "VERSION", "STATUS", "PROVIDER", "SHARE",
                               "OPEN", "TITLE"], rows
    assert rows[1].split()[:6] == ["lic", "4", "published", "health",
                                   "unconditional", "none"], rows
    r = cli(c, "-o", "json", "catalog", "list", "--provider", "nobody",
            token=ann2)
    assert r.rc == 0 and r.json == [], r
    r = cli(c, "catalog", "list", "--status", "bogus", token=ann2)
    assert r.rc == 1 and "400" in r.err, r
    r = cli(c, "-o", "json", "catalog", "history", "lic", token=ann2)
    assert [v["version"] for v in r.json] == [1, 2, 3, 4], r
    r = cli(c, "catalog", "retire", "lic", token=ann2)
    assert r.rc == 2
    r = cli(c, "-o", "json", "catalog", "retire", "lic", "--reason", "done",
            token=ann2)
    assert r.rc == 0 and r.json["status"] == "retired", r
    r = cli(c, "principal", "revoke", "ann", token=tok)
    assert r.rc == 0, r
    r = cli(c, "whoami", token=ann2)
    assert r.rc == 1 and "401 unauthorized" in r.err, r


def test_cli_records_and_ledger(c):
    """put/get/history/retire/correct/list, verified reads and the ledger
    commands, with the state file refusing a forged root."""
    lead, tok = _world(c)
    _publish(lead, tok, "e1")
    p = tok["prov"]
    r = cli(c, "put", "e1/k 1", "--create-only", token=p,
            stdin='{"name": "Ada", "n": 1}\n')
    assert r.rc == 0 and "version 1 (create)" in r.out, r
    r = cli(c, "put", "e1", "k 1", "--create-only", token=p,
            stdin='{"name": "Ada"}')
    assert r.rc == 1 and "409 conflict" in r.err, r
    doc = os.path.join(c.dir, "doc.json")
    with open(doc, "w") as f:
        f.write('{"name": "Ada L.", "n": 2}')
    r = cli(c, "-o", "json", "put", "e1/k 1", "-f", doc, "--if-version", "1",
            token=p)
    assert r.rc == 0 and r.json["version"] == 2 and r.json["op"] == "update"
    rev2 = r.json["revision"]
    r = cli(c, "put", "e1/k 1", "-f", doc, "--if-version", "1", token=p)
    assert r.rc == 1 and "409" in r.err, r
    r = cli(c, "put", "e1/k2", token=p, stdin='{"n": 3}')
    assert r.rc == 1 and "422 invalid" in r.err, r
    r = cli(c, "put", "e1/k2", token=p, stdin='{"name": ')
    assert r.rc == 1 and "well-formed" in r.err, r

    r = cli(c, "get", "e1/k 1", token=p)
    assert r.rc == 0 and 'value:     {"n":2,"name":"Ada L."}' in r.out, r
    r = cli(c, "-o", "json", "get", "e1/k 1", "--version", "1", token=p)
    assert r.json["value"] == {"n": 1, "name": "Ada"}, r
    r = cli(c, "-o", "json", "get", "e1/k 1", "--at-revision", str(rev2 - 1),
            token=p)
    assert r.json["version"] == 1, r
    r = cli(c, "get", "e1/missing", token=p)
    assert r.rc == 1 and "404 not_found" in r.err, r
    assert cli(c, "retire", "e1/k 1", token=p).rc == 2
    r = cli(c, "retire", "e1/k 1", "--reason", "gone", token=p)
    assert r.rc == 0 and "(retire)" in r.out, r
    r = cli(c, "correct", "e1/k 1", "--reason", "typo", token=p,
            stdin='{"name": "Ada Lovelace"}')
    assert r.rc == 0 and "version 4 (correct)" in r.out, r
    r = cli(c, "history", "e1/k 1", token=p)
    rows = r.out.splitlines()
    assert rows[0].split() == ["VERSION", "OP", "REVISION", "AT", "AUTHOR",
                               "VALUE"], rows
    assert [l.split()[1] for l in rows[1:]] == ["create", "update", "retire",
                                                "correct"], rows
    r = cli(c, "-o", "json", "history", "e1/k 1", token=p)
    h = r.json
    assert [v["version"] for v in h] == [1, 2, 3, 4]
    assert h[1]["prev_hash"] == h[0]["hash"]
    for i in range(5):
        assert cli(c, "put", "e1/p%d" % i, token=p,
                   stdin='{"name": "p"}').rc == 0
    r = cli(c, "list", "e1", "--prefix", "p", token=p)
    assert [l.split()[0] for l in r.out.splitlines()[1:]] == [
        "p0", "p1", "p2", "p3", "p4"], r
    r = cli(c, "-o", "json", "list", "e1", "--include-retired", token=p)
    assert any(i["key"] == "k 1" and i["retired"] for i in r.json), r.json

    # Verified reads, and the trusted root kept in a state file.
    state = os.path.join(c.dir, "root.state")
    r = cli(c, "get", "e1/p1", "--verify", token=p,
            extra=["--state-file", state])
    assert r.rc == 0 and "verified:" in r.out, r
    assert os.path.exists(state)
    r = cli(c, "ledger", "verify", "e1/p2", token=p,
            extra=["--state-file", state])
    assert r.rc == 0 and "extends the trusted revision" in r.out, r
    r = cli(c, "-o", "json", "ledger", "root", token=p)
    root = r.json
    assert len(root["root"]) == 64 and root["revision"] > 0
    r = cli(c, "ledger", "proof", str(rev2), token=p)
    assert r.rc == 0 and "verified:  yes" in r.out, r
    r = cli(c, "-o", "json", "ledger", "proof", str(rev2), "--tree-size",
            str(rev2), token=p)
    assert r.json["tree_size"] == rev2 and r.json["revision"] == rev2, r
    assert r.json["leaf_index"] == rev2 - 1 and len(r.json["path"]) > 0, r
    r = cli(c, "ledger", "consistency", str(rev2), str(root["revision"]),
            token=p)
    assert r.rc == 0 and "verified: yes" in r.out, r
    r = cli(c, "ledger", "root", "--tree-size", str(rev2), token=p)
    assert r.rc == 0 and ("revision: %d" % rev2) in r.out, r
    with open(state, "w") as f:
        f.write("%d %s\n" % (rev2, "ab" * 32))
    r = cli(c, "ledger", "verify", token=p, extra=["--state-file", state])
    assert r.rc == 1 and "does not extend" in r.err, r
    with open(state) as f:
        assert f.read() == "%d %s\n" % (rev2, "ab" * 32)

    # Any route, through the same client.
    r = cli(c, "-o", "json", "request", "GET", "/v1/whoami", token=p)
    assert r.rc == 0 and r.json["id"] == "prov", r
    r = cli(c, "request", "GET", "/v1/nope", token=p)
    assert r.rc == 1 and "404" in r.err, r
    r = cli(c, "--stale", "-o", "json", "get", "e1/p3", token=p)
    assert r.rc == 0 and r.json["key"] == "p3", r


def _jsonl(path, items):
    with open(path, "w") as f:
        for k, v in items:
            f.write(json.dumps({"key": k, "value": v}) + "\n")


def test_cli_import_export(c):
    """100k records imported, exported back identical; a re-run changes
    nothing; an import stopped by a bad line resumes where it stopped."""
    lead, tok = _world(c)
    _publish(lead, tok, "big")
    _publish(lead, tok, "small")
    p = tok["prov"]
    n = 100000
    items = [("rec-%06d" % i, {"name": "n%d" % i, "n": i,
                               "note": "é\u4e2d \"q\" %d" % (i * 7)})
             for i in range(n)]
    src = os.path.join(c.dir, "big.jsonl")
    _jsonl(src, items)
    t0 = time.time()
    r = cli(c, "-o", "json", "import", "big", src, "--parallel", "4",
            token=p)
    took = time.time() - t0
    assert r.rc == 0, r
    s = r.json
    assert s["records"] == n and s["created"] == n and s["complete"], s
    print("import: %d records in %.1f s (%.0f records/s)" %
          (n, took, n / took))
    t0 = time.time()
    out = os.path.join(c.dir, "big.out.jsonl")
    r = cli(c, "export", "big", "-f", out, token=p)
    assert r.rc == 0, r
    print("export: %d records in %.1f s" % (n, time.time() - t0))
    got = {}
    with open(out) as f:
        for line in f:
            o = json.loads(line)
            got[o["key"]] = o["value"]
    assert len(got) == n
    assert all(_canon(got[k]) == _canon(v) for k, v in items)
    # The export reads back: importing it changes nothing.
    r = cli(c, "-o", "json", "import", "big", out, token=p)
    assert r.rc == 0 and r.json["unchanged"] == n, r

    # An import that stops at line 601 (a schema failure) ...
    few = [("s%04d" % i, {"name": "s", "n": i}) for i in range(1200)]
    bad = list(few)
    bad[600] = ("s0600", {"n": "not an integer"})
    path = os.path.join(c.dir, "small.jsonl")
    _jsonl(path, bad)
    r = cli(c, "import", "small", path, "--batch", "100", "--parallel", "1",
            token=p)
    assert r.rc == 1 and "line 601 (key 's0600')" in r.err, r
    assert '"name"' in r.err and "422 invalid" in r.err, r
    # ... resumes once fixed: what is in is skipped, the rest created.
    _jsonl(path, few)
    r = cli(c, "-o", "json", "import", "small", path, "--batch", "100",
            token=p)
    s = r.json
    assert r.rc == 0 and s["unchanged"] == 600 and s["created"] == 600, s
    # Lines that are not records: named by line number, nothing sent.
    with open(path, "a") as f:
        f.write('{"key": "x", "valu": {}}\n')
    r = cli(c, "import", "small", path, token=p)
    assert r.rc == 1 and "line 1201" in r.err and "valu" in r.err, r
    r = cli(c, "-o", "json", "export", "small", "--all", token=p)
    lines = [json.loads(l) for l in r.out.splitlines()]
    assert len(lines) == 1200 and all(l["version"] == 1 for l in lines)
    r = cli(c, "export", "nosuch", token=p)
    assert r.rc == 1 and "404" in r.err, r


def test_cli_backup_verify(c):
    """backup writes a file verify-backup accepts with the same root and
    the same summary as provcat-node verify-backup; a flipped byte, a bad
    header or a cut file is rejected by both in the same words, naming the
    same frame and byte (the storage layer's snap_verify)."""
    tok = c.token
    for i in range(20):
        c.leader().req("POST", "/v1/orgs",
                       {"id": "o%d" % i, "name": "o", "level": "province",
                        "kind": "agency", "parent": "authority"},
                       token=tok)
    # Over 1 MiB of facts: frames after the first, so that a damaged one
    # is named by a number and a byte that mean something.
    lead, wt = _world(c)
    _publish(lead, wt, "bk")
    for b in range(5):
        recs = [{"key": "b%05d" % (b * 1000 + i),
                 "value": {"name": "%x" % (i * 7919) * 40, "n": i}}
                for i in range(1000)]
        r = lead.req("POST", "/v1/catalog/bk/records:batch",
                     {"records": recs}, token=wt["prov"])
        assert r.status == 200, r
    path = os.path.join(c.dir, "b.snap")
    r = cli(c, "-o", "json", "backup", path, token=tok)
    assert r.rc == 0, r
    info = r.json
    assert os.path.getsize(path) == info["bytes"] > 0
    assert not os.path.exists(path + ".part")
    r = cli(c, "-o", "json", "verify-backup", path)
    assert r.rc == 0 and r.json["root"] == info["root"], r
    assert r.json["revision"] == info["revision"] and r.json["valid"], r
    assert r.json["orgs"] == 23, r.json  # the 20, dept, dept2, authority
    assert r.json["records"] == 5000 and r.json["frames"] >= 2, r.json
    frames = r.json["frames"]
    # provcat and provcat-node verify-backup: the same check, the same
    # lines for an intact backup ...
    r = cli(c, "verify-backup", path)
    node = subprocess.run([NODE, "verify-backup", path], capture_output=True,
                          text=True)
    assert r.rc == 0 and node.returncode == 0, (r, node)
    assert r.out == node.stdout, (r.out, node.stdout)
    assert ("revision         %d\n" % info["revision"]) in r.out, r
    # ... and for a damaged one the same verdict in the same words, naming
    # the same frame and byte.
    with open(path, "rb") as f:
        data = bytearray(f.read())
    mid = len(data) - 100  # in the last frame, before the trailer
    for name, blob in (("flipped", data[:mid] + bytes([data[mid] ^ 0x40]) +
                        data[mid + 1:]),
                       ("header", bytes([data[0] ^ 1]) + data[1:]),
                       ("cut", data[:-10])):
        bad = os.path.join(c.dir, name + ".snap")
        with open(bad, "wb") as f:
            f.write(blob)
        r = cli(c, "verify-backup", bad)
        node = subprocess.run([NODE, "verify-backup", bad],
                              capture_output=True, text=True)
        assert r.rc == 1 and node.returncode == 1, (name, r, node)
        assert r.out == "", (name, r)
        mine = r.err.strip()
        theirs = node.stderr.strip()
        assert mine.startswith("provcat: verify-backup: "), mine
        assert theirs.startswith("provcat-node verify-backup: "), theirs
        assert mine[len("provcat: verify-backup: "):] == \
            theirs[len("provcat-node verify-backup: "):], (mine, theirs)
        assert ("'%s' is damaged: snapshot: " % bad) in mine, mine
        r = cli(c, "-o", "json", "verify-backup", bad)
        assert r.rc == 1 and r.json["valid"] is False, (name, r)
        assert r.json["error"] == mine[len("provcat: verify-backup: "):]
        if name == "flipped":
            # A checksum names the frame holding the byte, and where the
            # frame starts.
            assert r.json["part"] == "frame", r
            assert r.json["frame"] == frames, (frames, r)
            assert 68 < r.json["byte"] <= mid, r
            assert ("frame %d at byte %d" % (r.json["frame"],
                                             r.json["byte"])) in mine, mine
        elif name == "header":
            assert r.json["part"] == "header", r
    r = cli(c, "verify-backup", os.path.join(c.dir, "missing.snap"))
    assert r.rc == 1 and "No such file" in r.err, r
    r = cli(c, "backup", path)  # no token
    assert r.rc == 1 and "401" in r.err, r


def _rows(r):
    """A table's rows as lists of cells (columns are split on 2+ spaces)."""
    import re
    return [re.split(r"  +", l.strip()) for l in r.out.splitlines()]


def _lines(r):
    """ "member: value" lines as a dict."""
    out = {}
    for l in r.out.splitlines():
        k, _, v = l.partition(":")
        out[k.strip()] = v.strip()
    return out


def test_cli_sharing(c):
    """share request/decide/list/get, grants list/get/revoke and the four
    lists: table and JSON output, a grantee's filtered read, and the exit
    codes of refusals (1, the server's words) and usage errors (2)."""
    lead, tok = share._world(c)
    cons, prov, adm = tok["cons"], tok["prov"], tok["admin"]
    r = cli(c, "share", "request", "cc", "--purpose", "benefit checks",
            "--days", "30", "--fields", "name", token=cons)
    assert r.rc == 0, r
    sr = _lines(r)
    assert sr["status"] == "pending_provider" and sr["fields"] == "name", r
    rid = sr["id"]
    assert rid.startswith("sr-"), sr
    for bad in (["--purpose", "p"], ["--purpose", "p", "--days", "x"],
                ["--days", "3"]):
        r = cli(c, "share", "request", "cc", *bad, token=cons)
        assert r.rc == 2 and "usage: provcat share request" in r.err, (bad, r)
    r = cli(c, "share", "request", "uu", "--purpose", "p", "--days", "3",
            token=cons)
    assert r.rc == 1 and "409 conflict" in r.err, r
    r = cli(c, "share", "request", "cc", "--purpose", "p", "--days", "5000",
            token=cons)
    assert r.rc == 1 and "400 bad_request" in r.err, r

    r = cli(c, "share", "decide", rid, "approve", token=prov)
    assert r.rc == 0 and _lines(r)["status"] == "pending_authority", r
    assert cli(c, "share", "decide", rid, "maybe", token=adm).rc == 2
    r = cli(c, "share", "decide", rid, "reject", token=adm)
    assert r.rc == 1 and "400 bad_request" in r.err, r
    r = cli(c, "-o", "json", "share", "decide", rid, "approve", "--reason",
            "fine", token=adm)
    assert r.rc == 0 and r.json["status"] == "approved", r
    gid = r.json["grant"]
    r = cli(c, "-o", "json", "share", "get", rid, token=cons)
    assert r.json["status"] == "approved" and r.json["version"] == 3, r
    r = cli(c, "share", "get", rid, token=tok["cit"])
    assert r.rc == 1 and "404 not_found" in r.err, r
    r = cli(c, "share", "list", "--entry", "cc", token=cons)
    rows = _rows(r)
    assert rows[0] == ["ID", "STATUS", "ENTRY", "ORG", "DAYS", "FIELDS",
                       "REQUESTER", "GRANT"], rows
    assert [rid, "approved", "cc", "dept2", "30", "name", "cons", gid] in \
        rows, rows
    r = cli(c, "-o", "json", "share", "list", "--status", "approved",
            token=cons)
    assert [x["id"] for x in r.json] == [rid], r
    r = cli(c, "share", "list", "--status", "bogus", token=cons)
    assert r.rc == 1 and "400" in r.err, r

    r = cli(c, "grants", "list", token=cons)
    rows = _rows(r)
    assert rows[0] == ["ID", "STATUS", "ENTRY", "ORG", "ENDS_AT", "FIELDS",
                       "REQUEST"], rows
    assert rows[1][:4] == [gid, "active", "cc", "dept2"], rows
    assert rows[1][5:] == ["name", rid], rows
    r = cli(c, "-o", "json", "grants", "get", gid, token=cons)
    assert r.json["status"] == "active" and r.json["fields"] == ["name"], r
    r = cli(c, "get", "cc/" + share.KEY, token=cons)
    assert r.rc == 0 and "filtered:  yes, to the grant's fields name" in \
        r.out, r
    assert 'value:     {"name":"Ada"}' in r.out, r
    r = cli(c, "get", "cc/" + share.KEY, "--verify", token=cons)
    assert r.rc == 1 and "filtered" in r.err, r
    assert cli(c, "grants", "revoke", gid, token=adm).rc == 2
    r = cli(c, "grants", "revoke", gid, "--reason", "x", token=prov)
    assert r.rc == 1 and "403 forbidden" in r.err, r
    r = cli(c, "-o", "json", "grants", "revoke", gid, "--reason",
            "purpose met", token=adm)
    assert r.rc == 0 and r.json["status"] == "revoked", r
    assert r.json["revoked"]["by"] == "admin", r
    r = cli(c, "get", "cc/" + share.KEY, token=cons)
    assert r.rc == 1 and "403 forbidden" in r.err, r

    # The lists.
    r = cli(c, "lists", "responsibility", token=cons)
    rows = _rows(r)
    assert rows[0] == ["ID", "PROVIDER", "THEME", "SCOPE", "EVERY", "SHARE",
                       "OPEN", "TITLE"], rows
    assert rows[1:] == [
        ["cc", "dept", "t", "province", "daily", "conditional", "none",
         "title cc"],
        ["nn", "dept", "t", "province", "daily", "none", "none", "title nn"],
        ["uu", "dept", "t", "province", "daily", "unconditional",
         "unconditional", "title uu"]], rows
    r = cli(c, "-o", "json", "lists", "responsibility", "--provider",
            "nobody", token=cons)
    assert r.rc == 0 and r.json == [], r
    r = cli(c, "lists", "responsibility")
    assert r.rc == 1 and "401 unauthorized" in r.err, r
    r = cli(c, "lists", "demand", "--entry", "cc", token=cons)
    rows = _rows(r)
    assert rows[0][:3] == ["ENTRY", "PROVIDER", "TOTAL"], rows
    assert rows[1][:3] == ["cc", "dept", "1"] and rows[1][-1] == "dept2", rows
    r = cli(c, "-o", "json", "lists", "negative", token=cons)
    assert [x["id"] for x in r.json] == ["nn"], r
    assert r.json[0]["basis"] == "Regulation art. 18 (nn)", r
    r = cli(c, "lists", "negative", token=cons)
    assert _rows(r)[1][:3] == ["nn", "dept", "Regulation art. 18 (nn)"], r
    r = cli(c, "lists", "open")  # the public: no token
    rows = _rows(r)
    assert rows[0][:3] == ["ID", "PROVIDER", "OPEN"], rows
    assert [x[:3] for x in rows[1:]] == [["uu", "dept", "unconditional"]], r
    assert cli(c, "lists", "open", "--entry", "uu").rc == 2


def test_cli_open_data(c):
    """calendar get/set, open request/decide/list/get: a citizen's request
    through to a read of the entry it opened."""
    lead, tok = share._world(c)
    share._publish(lead, tok, "oc", "conditional", "conditional")
    r = lead.req("PUT", share._p("oc", share.KEY), {"name": "Ada", "n": 1},
                 token=tok["prov"])
    assert r.status == 201, r
    cit, prov, adm = tok["cit"], tok["prov"], tok["admin"]

    r = cli(c, "calendar", "get", "2031")  # anyone
    assert r.rc == 0, r
    cal = _lines(r)
    assert cal["calendar_provisional"] == "true" and cal["version"] == "0", r
    r = cli(c, "-o", "json", "calendar", "set", "2031", "--holidays",
            "2031-01-01,2031-01-02", "--workdays", "2031-01-04", token=adm)
    assert r.rc == 0 and r.json["version"] == 1, r
    assert r.json["holidays"] == ["2031-01-01", "2031-01-02"], r
    f = os.path.join(c.dir, "cal.json")
    with open(f, "w") as fh:
        json.dump({"holidays": ["2031-05-01"]}, fh)
    r = cli(c, "calendar", "set", "2031", "-f", f, token=adm)
    assert r.rc == 0 and _lines(r)["holidays"] == "2031-05-01", r
    r = cli(c, "-o", "json", "calendar", "get", "2031")
    assert r.json["version"] == 2 and r.json["workdays"] == [], r
    r = cli(c, "calendar", "set", "2031", "--holidays", "2031-05-01",
            token=prov)
    assert r.rc == 1 and "403 forbidden" in r.err, r
    r = cli(c, "calendar", "set", "2031", "--workdays", "2031-01-06",
            token=adm)
    assert r.rc == 1 and "400 bad_request" in r.err, r
    for argv in (["calendar", "set", "31"], ["calendar", "get", "year"],
                 ["calendar", "set", "2031", "-f", f, "--holidays", "x"]):
        assert cli(c, *argv, token=adm).rc == 2, argv

    args = ["--applicant", "Ada Lovelace", "--data-type", "licences",
            "--description", "every licence", "--purpose", "research"]
    r = cli(c, "-o", "json", "open", "request", "oc", *args, token=cit)
    assert r.rc == 0 and r.json["status"] == "pending", r
    oid, due = r.json["id"], r.json["due"]
    assert oid.startswith("or-") and len(due) == 10, r
    assert cli(c, "open", "request", "oc", *args[:6], token=cit).rc == 2
    r = cli(c, "open", "request", "uu", *args, token=cit)
    assert r.rc == 1 and "409 conflict" in r.err, r
    r = cli(c, "open", "request", "oc", *args)
    assert r.rc == 1 and "401 unauthorized" in r.err, r
    r = cli(c, "open", "list", "--overdue", "false", token=prov)
    rows = _rows(r)
    assert rows[0] == ["ID", "STATUS", "ENTRY", "REQUESTER", "DUE",
                       "OVERDUE", "APPLICANT"], rows
    assert rows[1:] == [[oid, "pending", "oc", "cit", due, "false",
                         "Ada Lovelace"]], rows
    r = cli(c, "-o", "json", "open", "list", "--overdue", "true", token=prov)
    assert r.rc == 0 and r.json == [], r
    assert cli(c, "open", "list", "--overdue", "maybe", token=prov).rc == 2
    r = cli(c, "open", "get", oid, token=cit)
    assert r.rc == 0 and _lines(r)["due"] == due, r
    r = cli(c, "open", "get", oid, token=tok["cons"])
    assert r.rc == 1 and "404 not_found" in r.err, r
    r = cli(c, "get", "oc/" + share.KEY, token=cit)
    assert r.rc == 1 and "403 forbidden" in r.err, r
    r = cli(c, "open", "decide", oid, "approve", "--reason", "mine",
            token=cit)
    assert r.rc == 1 and "403 forbidden" in r.err, r
    r = cli(c, "open", "decide", oid, "approve", "--reason", "granted",
            token=prov)
    assert r.rc == 0 and _lines(r)["status"] == "approved", r
    assert _lines(r)["decided_by"] == "prov", r
    r = cli(c, "open", "decide", oid, "reject", "--reason", "no", token=prov)
    assert r.rc == 1 and "409 conflict" in r.err, r
    r = cli(c, "-o", "json", "get", "oc/" + share.KEY, token=cit)
    assert r.rc == 0 and r.json["value"] == {"n": 1, "name": "Ada"}, r


def test_cli_objections(c):
    """objection file/decide/list/get, a correction naming the objection,
    redact and redactions, and the ledger's facts."""
    lead, tok = share._world(c)
    cit, prov, adm = tok["cit"], tok["prov"], tok["admin"]
    rec = "uu/" + share.KEY
    r = cli(c, "-o", "json", "objection", "file", rec, "--kind",
            "personal_information", "--description", "my name", token=cit)
    assert r.rc == 0 and r.json["status"] == "open", r
    assert "record_exists" not in r.json, r
    obid = r.json["id"]
    r = cli(c, "objection", "file", rec, "--kind", "gossip",
            "--description", "d", token=cit)
    assert r.rc == 1 and "400 bad_request" in r.err, r
    assert cli(c, "objection", "file", rec, "--kind", "error",
               token=cit).rc == 2
    assert cli(c, "objection", "file", "nokey", "--kind", "error",
               "--description", "d", token=cit).rc == 2
    r = cli(c, "objection", "list", "--status", "open", token=adm)
    rows = _rows(r)
    assert rows[0] == ["ID", "STATUS", "KIND", "ENTRY", "KEY", "FILER"], rows
    assert rows[1:] == [[obid, "open", "personal_information", "uu",
                         share.KEY, "cit"]], rows
    r = cli(c, "objection", "get", obid, token=adm)
    assert r.rc == 0 and _lines(r)["record_exists"] == "true", r
    assert cli(c, "objection", "decide", obid, "accept", token=adm).rc == 2
    assert cli(c, "objection", "decide", obid, "approve", "--reason", "x",
               token=adm).rc == 2
    r = cli(c, "objection", "decide", obid, "accept", "--reason", "x",
            token=cit)
    assert r.rc == 1 and "403 forbidden" in r.err, r
    r = cli(c, "-o", "json", "objection", "decide", obid, "accept",
            "--reason", "upheld", token=adm)
    assert r.rc == 0 and r.json["status"] == "accepted", r
    r = cli(c, "get", rec, token=prov)
    assert ("disputed:  yes, by %s" % obid) in r.out, r
    r = cli(c, "correct", rec, "--reason", "objection upheld", "--objection",
            obid, token=prov, stdin='{"name": "A. L."}')
    assert r.rc == 0 and "version 2 (correct)" in r.out, r
    r = cli(c, "-o", "json", "objection", "get", obid, token=adm)
    assert r.json["status"] == "resolved", r
    assert r.json["resolution"]["op"] == "correct", r
    r = cli(c, "get", rec, token=prov)
    assert "disputed:" not in r.out and ("objection: %s" % obid) in r.out, r

    r = cli(c, "redact", rec, "1", "--objection", obid, "--reason", "pi",
            token=prov)
    assert r.rc == 1 and "403 forbidden" in r.err, r
    assert cli(c, "redact", rec, "1", "--objection", obid, token=adm).rc == 2
    assert cli(c, "redact", rec, "one", "--objection", obid, "--reason",
               "pi", token=adm).rc == 2
    r = cli(c, "-o", "json", "redact", "uu", share.KEY, "1", "--objection",
            obid, "--reason", "personal information", token=adm)
    assert r.rc == 0 and r.json["redacted"] is True, r
    assert r.json["version"] == 1 and r.json["objection"] == obid, r
    r = cli(c, "get", rec, "--version", "1", "--verify", token=prov)
    assert r.rc == 0 and "redacted:  yes" in r.out, r
    assert "value:" not in r.out, r
    assert "verified:  inclusion at revision" in r.out, r
    r = cli(c, "redactions", token=adm)
    rows = _rows(r)
    assert rows[0] == ["ENTRY", "KEY", "VERSION", "OBJECTION", "REVISION",
                       "REASON"], rows
    assert [x[:4] for x in rows[1:]] == [["uu", share.KEY, "1", obid]], rows
    r = cli(c, "redactions", token=tok["cons"])
    assert r.rc == 1 and "403 forbidden" in r.err, r

    r = cli(c, "ledger", "facts", "--limit", "5", token=adm)
    rows = _rows(r)
    assert rows[0] == ["REVISION", "KIND", "AT", "PRINCIPAL", "PARENT", "ID",
                       "VERSION"], rows
    assert [x[0] for x in rows[1:]] == ["1", "2", "3", "4", "5"], rows
    r = cli(c, "-o", "json", "ledger", "facts", "--from", "3", "--limit",
            "2", token=adm)
    assert [f["revision"] for f in r.json] == [3, 4], r
    r = cli(c, "-o", "json", "ledger", "facts", token=adm)
    revs = [f["revision"] for f in r.json]
    assert revs == list(range(1, len(revs) + 1)), revs
    assert "redaction" in [f["kind"] for f in r.json], r.json[-5:]
    r = cli(c, "ledger", "facts", token=tok["cons"])
    assert r.rc == 1 and "403 forbidden" in r.err, r
    assert cli(c, "ledger", "facts", "--from", "0", token=adm).rc == 2


def test_cli_every_command_driven(c):
    """Each command of `provcat --help` ran in the tests above."""
    missing = [n for n in _commands() if n not in DRIVEN]
    assert not missing, missing



# The last test checks what the others drove: one process. 100k records
# through import and export are CPU-bound: alone.
ONE_PROCESS = True
SERIAL_TESTS = {"test_cli_import_export"}

TESTS = [
    (test_cli_usage_and_help, {}),
    (test_cli_cluster, {}),
    (test_cli_orgs_principals_catalog, {}),
    (test_cli_records_and_ledger, {}),
    (test_cli_import_export, {}),
    (test_cli_backup_verify, {}),
    (test_cli_sharing, {}),
    (test_cli_open_data, {}),
    (test_cli_objections, {}),
    (test_cli_every_command_driven, {"n": 0, "start": False}),
]
