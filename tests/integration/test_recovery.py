# SPDX-License-Identifier: MIT
"""Disaster recovery (issue #14): a backup restored into a new node, two
empty nodes joined to it (they used to stay at commit index 0 for good),
writes, kill -9 of the restored node, writes through the new leader; every
node ends with the same (revision, root), every record readable on every
node, the backup's root still provable at its revision. The offline
`restore` and `verify-backup` subcommands, --restore started twice, and the
runbook of docs/node.md run block by block as it stands.

PROVCAT_TEST_LARGE=1 adds test_recovery_large: the same with a ledger of a
few hundred thousand facts, the joins timed (docs/bench.md)."""
import hashlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import textwrap
import time
import urllib.parse

from cluster import NODE, Cluster, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "..", "docs", "node.md")
FIELDS = [{"name": "name", "type": "string", "required": True},
          {"name": "n", "type": "integer", "required": False}]


# ---- a world of orgs, principals, entries and records ------------------

def _org(oid):
    return {"id": oid, "name": oid, "level": "province", "kind": "agency",
            "parent": "authority"}


def _world(c, entries, per_entry, pad=40, updated=10):
    """Org dept with provider prov; `entries` published entries of
    `per_entry` records each (batches of up to 1000; `pad` bytes of text
    per document), the first `updated` keys of each at version 3 and one
    retired. Returns (leader, tokens by principal)."""
    lead = c.leader()
    tok = {"admin": c.token}
    r = lead.req("POST", "/v1/orgs", _org("dept"), token=c.token)
    assert r.status == 201, r
    r = lead.req("POST", "/v1/principals",
                 {"id": "prov", "org": "dept", "roles": ["provider"]},
                 token=c.token)
    assert r.status == 201, r
    tok["prov"] = r.json["token"]
    text = "x" * pad
    for e in entries:
        body = {"id": e, "title": e, "description": "", "provider": "dept",
                "theme": "t", "keywords": [], "fields": FIELDS,
                "share": {"class": "unconditional", "conditions": "",
                          "basis": "art. 18"},
                "open": {"class": "unconditional", "conditions": ""},
                "update_frequency": "daily", "security_level": 2,
                "scope": "province"}
        r = lead.req("POST", "/v1/catalog", body, token=tok["prov"])
        assert r.status == 201, r
        r = lead.req("POST", "/v1/catalog/%s/submit" % e, token=tok["prov"])
        assert r.status == 200, r
        r = lead.req("POST", "/v1/catalog/%s/review" % e,
                     {"decision": "approve", "override_duplicate": True,
                      "reason": "same schema on purpose"}, token=c.token)
        assert r.status == 200, r
        for lo in range(0, per_entry, 1000):
            recs = [{"key": "k%07d" % i, "value": {"name": text, "n": i}}
                    for i in range(lo, min(per_entry, lo + 1000))]
            r = lead.req("POST", "/v1/catalog/%s/records:batch" % e,
                         {"records": recs}, token=tok["prov"], timeout=60)
            assert r.status == 200, r
        for i in range(min(updated, per_entry)):
            for v in (2, 3):
                r = lead.req("PUT", _rp(e, "k%07d" % i),
                             {"name": "v%d" % v, "n": i}, token=tok["prov"])
                assert r.status == 200 and r.json["version"] == v, r
        if per_entry > updated:
            r = lead.req("POST", _rp(e, "k%07d" % updated, "/retire"),
                         {"reason": "gone"}, token=tok["prov"])
            assert r.status == 200, r
    return lead, tok


def _rp(entry, key, suffix=""):
    return "/v1/catalog/%s/records/%s%s" % (
        entry, urllib.parse.quote(key, safe=""), suffix)


def _records(node, entry, token, min_rev=0):
    """Every record of `entry` on `node` alone (stale reads), retired ones
    too: {key: (version, hash, retired)}."""
    out, after = {}, None
    while True:
        q = "?consistency=stale&include_retired=true&limit=1000"
        if min_rev:
            q += "&min_revision=%d" % min_rev
        if after:
            q += "&after=" + urllib.parse.quote(after)
        r = node.req("GET", "/v1/catalog/%s/records%s" % (entry, q),
                     token=token)
        assert r.status == 200, (node.id, r)
        for it in r.json["items"]:
            out[it["key"]] = (it["version"], it["hash"], it["retired"])
        after = r.json["next"]
        if after is None:
            return out


def _all_records(node, entries, token, min_rev=0):
    return {e: _records(node, e, token, min_rev) for e in entries}


def _read_every_record(node, entries, want, token, min_rev):
    """GET every record from `node` alone and check version, hash and
    document against `want` ({entry: {key: (version, hash, retired)}}),
    the document's content hash recomputed here."""
    for e in entries:
        for key, (ver, h, retired) in want[e].items():
            r = node.req("GET", _rp(e, key) + "?consistency=stale"
                         "&min_revision=%d" % min_rev, token=token)
            assert r.status == 200, (node.id, e, key, r)
            assert (r.json["version"], r.json["hash"]) == (ver, h), \
                (node.id, e, key, r.json)
            assert r.json.get("retired", False) is retired, r.json
            if "value" in r.json:
                doc = json.dumps(r.json["value"], sort_keys=True,
                                 separators=(",", ":")).encode()
                salt = bytes.fromhex(r.json["salt"])
                ch = hashlib.blake2b(b"\x02" + salt + doc,
                                     digest_size=32).hexdigest()
                assert ch == r.json["content_hash"], (node.id, e, key)
            else:
                assert retired, (node.id, e, key, r.json)


# ---- RFC 6962 consistency proofs, checked here -------------------------

def _node_hash(a, b):
    return hashlib.blake2b(b"\x01" + a + b, digest_size=32).digest()


def _check_consistency(m, n, root_m, root_n, path):
    """RFC 9162 2.1.4.2: does `path` prove the tree of size m with root
    root_m a prefix of the tree of size n with root root_n?"""
    path = [bytes.fromhex(p) for p in path]
    if m == n:
        return not path and root_m == root_n
    if m & (m - 1) == 0:  # a power of two: root_m starts the path
        path = [root_m] + path
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node_hash(c, fr)
            sr = _node_hash(c, sr)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


def _backup_provable(node, rev, root, to, token):
    """On `node` alone: its root at `rev` is the backup's, and a
    consistency proof from `rev` to `to` checks out here against the
    node's root at `to`."""
    def ledger(size):
        r = node.req("GET", "/v1/ledger?consistency=stale&tree_size=%d" %
                     size, token=token)
        assert r.status == 200, (node.id, r)
        return r.json["root"]
    assert ledger(rev) == root, node.id
    root_to = ledger(to)
    r = node.req("GET", "/v1/ledger/consistency?consistency=stale"
                 "&from=%d&to=%d" % (rev, to), token=token)
    assert r.status == 200, (node.id, r)
    assert (r.json["from_root"], r.json["to_root"]) == (root, root_to)
    assert _check_consistency(rev, to, bytes.fromhex(root),
                              bytes.fromhex(root_to), r.json["path"]), \
        (node.id, r.json)
    if rev < to:  # and the check can fail: a wrong root is refused
        assert not _check_consistency(rev, to, bytes.fromhex(root),
                                      bytes(32), r.json["path"])


# ---- backups, the offline subcommands, new clusters --------------------

def _backup(c, lead, path):
    """GET /v1/backup from the leader into `path`: (revision, root)."""
    r = lead.req("GET", "/v1/backup", token=c.token, timeout=300)
    assert r.status == 200, r
    with open(path, "wb") as f:
        f.write(r.body)
    return (int(r.headers["x-provcat-backup-revision"]),
            r.headers["x-provcat-backup-root"])


def _offline(*args, env=None, timeout=600):
    return subprocess.run([NODE] + list(args), capture_output=True,
                          text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def _verify(path):
    """verify-backup's lines as a dict (exit 0 required)."""
    p = _offline("verify-backup", path)
    assert p.returncode == 0 and p.stderr == "", p
    out = {}
    for line in p.stdout.splitlines():
        k, v = line.split(None, 1)
        out[k] = v
    return out


def _new_cluster(old):
    """Three nodes with empty data dirs, no --cluster, the old admin token
    file copied (restoring keeps every token)."""
    d = Cluster(n=3, start=False)
    d.spec = ""
    shutil.copy(old.token_file, d.token_file)
    return d


def _restore_offline(d, x, backup):
    p = _offline("restore", "--backup", backup, "--data-dir", x.dir,
                 "--id", str(x.id), "--peer", x.peer)
    assert p.returncode == 0 and p.stderr == "", p
    assert p.stdout.startswith("restored "), p.stdout
    return p.stdout


def _voter(lead, x):
    """`x` is a voter and its promotion committed (no "status")."""
    st = lead.status()
    return st and any(m["id"] == x.id and m["role"] == "voter" and
                      "status" not in m for m in st.get("members", []))


def _join(d, lead, x, timeout=60):
    """Start `x` empty, add it through `lead`, wait until it votes; the
    seconds from POST to voter."""
    x.start("existing")
    wait_for(lambda: x.status(), 10, "node %d up" % x.id)
    t0 = time.time()
    r = lead.req("POST", "/v1/members", {"id": x.id, "address": x.peer,
                                         "client_url": x.url},
                 token=d.token)
    assert r.status == 202 and r.json["status"] == "catching_up", r
    wait_for(lambda: _voter(lead, x), timeout, "node %d to vote" % x.id)
    return time.time() - t0


def _frames(path):
    """(offset, end) of every frame of a backup, parsed here."""
    with open(path, "rb") as f:
        b = f.read()
    out, off = [], 68
    while struct.unpack_from("<I", b, off)[0] != 0xFFFFFFFF:
        raw, clen = struct.unpack_from("<II", b, off)
        end = off + 16 + (clen or raw)
        out.append((off, end))
        off = end
    return out, off  # frames, trailer offset


# ---- the end-to-end test -----------------------------------------------

def _restore_join_kill(c, entries, per_entry, pad, timeouts):
    """The scenario of the issue on source cluster `c`; returns timings."""
    lead, tok = _world(c, entries, per_entry, pad=pad)
    want = _all_records(lead, entries, tok["prov"])
    for e in entries:
        assert len(want[e]) == per_entry, (e, len(want[e]))
    path = os.path.join(c.dir, "backup.snap")
    rev, root = _backup(c, lead, path)
    t0 = time.time()
    facts = _verify(path)
    verify_s = time.time() - t0
    assert (int(facts["revision"]), facts["root"]) == (rev, root), facts
    assert int(facts["entries"]) == len(entries), facts
    assert int(facts["records"]) == len(entries) * per_entry, facts
    c.close(keep=True)  # the disaster; run.py removes its files later

    d = _new_cluster(c)
    times = {"verify": verify_s}
    try:
        n1, n2, n3 = d.nodes
        if timeouts.get("restore_flag"):
            # --restore, timed to ready, on node 2's dir (wiped after).
            t0 = time.time()
            n2.start("existing", extra=["--restore", path])
            wait_for(lambda: n2.req("GET", "/readyz").status == 200,
                     timeouts["ready"], "--restore to ready")
            times["restore_flag"] = time.time() - t0
            r = n2.req("GET", "/v1/ledger?tree_size=%d" % rev, token=d.token)
            assert r.status == 200 and r.json["root"] == root, r
            assert n2.stop() == 0
            shutil.rmtree(n2.dir)
        t0 = time.time()
        _restore_offline(d, n1, path)
        times["restore"] = time.time() - t0
        t0 = time.time()
        n1.start("existing")
        lead = d.wait_ready(timeout=timeouts["ready"])
        times["ready"] = time.time() - t0
        assert lead is n1
        r = n1.req("GET", "/v1/ledger?tree_size=%d" % rev, token=d.token)
        assert r.status == 200 and r.json["root"] == root, r
        times["join2"] = _join(d, n1, n2, timeouts["join"])
        times["join3"] = _join(d, n1, n3, timeouts["join"])
        st = d.converged(timeout=timeouts["join"])
        assert st["revision"] >= rev

        # A write, then the restored node dies.
        r = n1.req("PUT", _rp(entries[0], "after-1"), {"name": "a1"},
                   token=tok["prov"])
        assert r.status == 201, r
        d.converged()
        n1.kill(signal.SIGKILL)
        lead = d.wait_ready(timeout=30)  # node 2 or 3: node 1 is dead
        r = lead.req("PUT", _rp(entries[-1], "after-2"), {"name": "a2"},
                     token=tok["prov"])
        assert r.status == 201, r
        want_after = {entries[0]: "after-1", entries[-1]: "after-2"}

        # The restored node comes back as it was started: no restore flag.
        n1.start("existing")
        st = d.converged(timeout=timeouts["join"])
        for e, key in want_after.items():
            r = lead.req("GET", _rp(e, key), token=tok["prov"])
            assert r.status == 200, r
            want[e][key] = (r.json["version"], r.json["hash"], False)
        for x in d.nodes:
            got = _all_records(x, entries, tok["prov"], st["revision"])
            assert got == want, x.id
            _backup_provable(x, rev, root, st["revision"], d.token)
        if per_entry <= 200:
            for x in d.nodes:
                _read_every_record(x, entries, want, tok["prov"],
                                   st["revision"])
        else:  # a sample of ~1000 keys per entry, and every updated one
            step = max(97, per_entry // 1000) | 1
            sample = {e: {k: v for i, (k, v) in enumerate(sorted(
                want[e].items())) if i % step == 0 or v[0] > 1}
                for e in entries}
            for x in d.nodes:
                _read_every_record(x, entries, sample, tok["prov"],
                                   st["revision"])
        # The old admin token still works: restoring is no rotation.
        r = lead.req("GET", "/v1/whoami", token=c.token)
        assert r.status == 200 and r.json["id"] == "admin", r
        times["facts"] = rev
        times["bytes"] = os.path.getsize(path)
        return times
    finally:
        d.close()


def test_recovery_restore_then_join(c):
    """The issue's scenario: a backup of 3 entries with records of 1 to 3
    versions (one retired) restored into a new node; two empty nodes join
    and vote; a write; kill -9 of the restored node; a write through the
    new leader; the restored node restarts. Every node has the same
    (revision, root) and every record; the backup's root is provable."""
    _restore_join_kill(c, ["e1", "e2", "e3"], 40, 40,
                       {"ready": 30, "join": 60})


def test_recovery_large(c):
    """The same with a ledger of ~300k facts (a snapshot of tens of MB,
    sent to each joiner), timed; PROVCAT_TEST_LARGE=1 only."""
    n = int(os.environ.get("PROVCAT_TEST_LARGE_RECORDS", "300000"))
    per = n // 3
    t0 = time.time()
    times = _restore_join_kill(c, ["L1", "L2", "L3"], per, 200,
                               {"ready": 300, "join": 900,
                                "restore_flag": True})
    print("recovery-large: %d records, %d facts, backup %.1f MB; "
          "verify-backup %.1f s; --restore to ready %.1f s; restore %.1f s "
          "then start to ready %.1f s; join node 2 %.1f s, node 3 %.1f s "
          "(whole test %.0f s)" %
          (per * 3, times["facts"], times["bytes"] / 1e6, times["verify"],
           times["restore_flag"], times["restore"], times["ready"],
           times["join2"], times["join3"], time.time() - t0), flush=True)


def test_recovery_join_retried_after_give_up(c):
    """A joiner that raft gives up on (its catch-up took longer than the
    limit: here the node was not even running, and the limit is cut to a
    second) stays a spare that raft sends no new entries; POST /v1/members
    again promotes it, and it catches up and votes."""
    lead = c.leader()
    for i in range(3):
        assert lead.req("POST", "/v1/orgs", _org("g%d" % i),
                        token=c.token).status == 201
    path = os.path.join(c.dir, "g.snap")
    rev, root = _backup(c, lead, path)
    d = _new_cluster(c)
    try:
        n1, n2, _ = d.nodes
        _restore_offline(d, n1, path)
        n1.start("existing", env={"PROVCAT_TEST_CATCH_UP_BASE_MS": "1000"})
        d.wait_ready(timeout=30)
        body = {"id": 2, "address": n2.peer, "client_url": n2.url}
        r = n1.req("POST", "/v1/members", body, token=d.token)
        assert r.status == 202, r
        m = {x["id"]: x for x in n1.status()["members"]}
        assert (m[2]["role"], m[2]["status"]) == ("spare", "catching_up"), m
        r = n1.req("POST", "/v1/members", {"id": 3, "address": d.nodes[2].peer,
                                           "client_url": d.nodes[2].url},
                   token=d.token)
        assert r.status == 409, r  # one change at a time
        wait_for(lambda: "membership change finished: unavailable" in
                 open(n1.log).read(), 20, "raft to give node 2 up")
        m = {x["id"]: x for x in n1.status()["members"]}
        assert m[2]["role"] == "spare" and "status" not in m[2], m
        assert sorted(m) == [1, 2], m
        n2.start("existing")
        wait_for(lambda: n2.status(), 10, "node 2 up")
        time.sleep(1)  # what was in flight to it arrives, then nothing:
        assert n1.req("POST", "/v1/orgs", _org("g-new"),
                      token=d.token).status == 201
        time.sleep(2)
        assert n2.status()["revision"] < n1.status()["revision"]
        r = n1.req("POST", "/v1/members", body, token=d.token)
        assert r.status == 202, r
        wait_for(lambda: _voter(n1, n2), 30, "node 2 to vote")
        st = d.converged(nodes=[n1, n2])
        assert st["revision"] >= rev
        _backup_provable(n2, rev, root, st["revision"], d.token)
    finally:
        d.close()


# ---- --restore, the offline subcommands --------------------------------

def test_recovery_restore_flag_twice(c):
    """--restore on an empty data dir restores and starts; started again
    with the same flag it starts on its data dir (later writes kept), also
    once the file is gone; another backup, a data dir holding other state,
    a damaged backup: exit 2, nothing written."""
    lead = c.leader()
    for i in range(3):
        assert lead.req("POST", "/v1/orgs", _org("r%d" % i),
                        token=c.token).status == 201
    path = os.path.join(c.dir, "one.snap")
    rev, root = _backup(c, lead, path)
    assert lead.req("POST", "/v1/orgs", _org("r3"),
                    token=c.token).status == 201
    other = os.path.join(c.dir, "two.snap")
    _backup(c, lead, other)
    d = _new_cluster(c)
    try:
        x = d.nodes[0]
        x.start("existing", extra=["--restore", path])
        d.wait_ready(timeout=30)
        r = x.req("GET", "/v1/ledger?tree_size=%d" % rev, token=d.token)
        assert r.status == 200 and r.json["root"] == root, r
        assert x.req("POST", "/v1/orgs", _org("later"),
                     token=d.token).status == 201
        assert x.stop() == 0
        for why in ("same file", "file gone"):
            x.start("existing", extra=["--restore", path])
            d.wait_ready(timeout=30)
            r = x.req("GET", "/v1/orgs/later", token=d.token)
            assert r.status == 200, (why, r)
            assert x.stop() == 0
            if why == "same file":
                os.rename(path, path + ".moved")
        with open(x.log) as f:
            log = f.read()
        assert "was restored from this backup (revision %d) already" % rev \
            in log, log[-2000:]
        assert "is gone; data dir" in log, log[-2000:]
        os.rename(path + ".moved", path)

        before = sorted(os.listdir(os.path.join(x.dir, "raft")))
        args = ["--id", "1", "--data-dir", x.dir, "--peer", x.peer,
                "--client", x.client]
        p = _offline(*(args + ["--restore", other]))
        assert p.returncode == 2, p
        assert "restored from another backup" in p.stderr, p.stderr
        assert sorted(os.listdir(os.path.join(x.dir, "raft"))) == before

        # A data dir of a node that was never restored.
        y = d.nodes[1]
        y.start("existing")
        wait_for(lambda: y.status(), 10, "node 2 up")
        assert y.stop() == 0
        p = _offline("--id", "2", "--data-dir", y.dir, "--peer", y.peer,
                     "--client", y.client, "--restore", path)
        assert p.returncode == 2 and "not empty and was not restored" in \
            p.stderr, p
        assert not os.path.exists(os.path.join(y.dir, "restored"))

        # A damaged backup: refused before anything is written.
        with open(path, "rb") as f:
            b = bytearray(f.read())
        b[len(b) // 2] ^= 0x20
        bad = os.path.join(c.dir, "bad.snap")
        with open(bad, "wb") as f:
            f.write(b)
        z = d.nodes[2]
        p = _offline("--id", "3", "--data-dir", z.dir, "--peer", z.peer,
                     "--client", z.client, "--restore", bad)
        assert p.returncode == 2 and "frame 1 at byte 68" in p.stderr, p
        assert sorted(os.listdir(z.dir)) == ["LOCK"], os.listdir(z.dir)
    finally:
        d.close()


def test_recovery_verify_backup_cli(c):
    """verify-backup: an intact backup's values; a flipped byte in each
    frame, a cut file and a bad trailer named by frame and byte (exit 1);
    usage errors exit 2; --help exits 0. restore: usage errors, a damaged
    backup, a busy or foreign data dir, a second run of the same restore."""
    # ~5000 records of ~300 bytes: several 1 MiB frames.
    _world(c, ["v1"], 5000, pad=260)
    lead = c.leader()
    path = os.path.join(c.dir, "b.snap")
    rev, root = _backup(c, lead, path)
    v = _verify(path)
    assert (int(v["revision"]), v["root"], int(v["facts"])) == \
        (rev, root, rev), v
    assert (v["file"], int(v["bytes"])) == (path, os.path.getsize(path))
    assert (int(v["entries"]), int(v["records"])) == (1, 5000), v
    assert int(v["record_versions"]) == 5000 + 20 + 1, v  # updates, retire
    assert int(v["principals"]) == 2 and int(v["orgs"]) == 2, v
    frames, trailer = _frames(path)
    assert int(v["frames"]) == len(frames) >= 2, (v, frames)
    assert lead.req("POST", "/v1/orgs", _org("later"),
                    token=c.token).status == 201
    later = os.path.join(c.dir, "later.snap")
    _backup(c, lead, later)

    with open(path, "rb") as f:
        good = f.read()
    bad = os.path.join(c.dir, "bad.snap")

    def damaged(data, want):
        with open(bad, "wb") as f:
            f.write(data)
        p = _offline("verify-backup", bad)
        assert p.returncode == 1 and p.stdout == "", p
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and "'%s' is damaged" % bad in lines[0], p
        assert want in lines[0], (want, lines[0])
        return lines[0]

    for k, (off, end) in enumerate(frames):
        flip = (off + 16 + end) // 2
        b = bytearray(good)
        b[flip] ^= 0x01
        damaged(bytes(b), "frame %d at byte %d: checksum mismatch" %
                (k + 1, off))
    off, end = frames[-1]
    damaged(good[:end - 100],
            "frame %d at byte %d: truncated" % (len(frames), off))
    damaged(good[:trailer], "frame %d at byte %d: truncated" %
            (len(frames) + 1, trailer))
    b = bytearray(good)
    b[-1] ^= 0xff
    damaged(bytes(b), "trailer at byte %d: checksum mismatch" % trailer)
    damaged(good + b"\0", "garbage after the trailer, at byte %d" % len(good))

    for args in ((), (path, path), ("--json", path)):
        p = _offline("verify-backup", *args)
        assert p.returncode == 2 and len(p.stderr.splitlines()) == 1, p
        assert "--help" in p.stderr
    p = _offline("verify-backup", os.path.join(c.dir, "nope.snap"))
    assert p.returncode == 1 and "No such file" in p.stderr, p
    for sub in ("verify-backup", "restore"):
        p = _offline(sub, "--help")
        assert p.returncode == 0 and "EXIT STATUS" in p.stdout, p
        assert p.stdout.startswith("NAME\n    provcat-node %s - " % sub)

    # restore
    dd = os.path.join(c.dir, "restored")
    base = ["restore", "--backup", path, "--data-dir", dd, "--id", "7",
            "--peer", "127.0.0.1:17007"]
    for args, why in ((base[:-2], "--peer is required"),
                      (base[:5] + ["--id", "0"] + base[7:], "--id must be"),
                      (base[:7] + ["--peer", "10.0.0.1"], "--peer: "),
                      (base + ["--client", "x"], "unknown option"),
                      (base + ["--id", "8"], "given twice")):
        p = _offline(*args)
        assert p.returncode == 2 and why in p.stderr, (args, p)
        assert len(p.stderr.splitlines()) == 1 and not os.path.exists(dd)
    # The environment stands in for flags, as for the node.
    p = _offline(*base[:3], env={"PROVCAT_DATA_DIR": dd, "PROVCAT_ID": "7",
                                 "PROVCAT_PEER": "127.0.0.1:17007"})
    assert p.returncode == 0 and "restored %s into %s" % (path, dd) in \
        p.stdout, p
    assert "revision %d, root %s, 1 entries, 5000 records" % (rev, root) in \
        p.stdout
    p = _offline(*base)
    assert p.returncode == 0 and "already holds this backup" in p.stdout, p
    p = _offline(*(base[:2] + [later] + base[3:]))
    assert p.returncode == 1 and "restored from another backup" in p.stderr, p
    b = bytearray(good)
    b[frames[-1][0] + 20] ^= 0x04
    with open(bad, "wb") as f:
        f.write(b)
    dd2 = dd + "-2"
    p = _offline(*(base[:2] + [bad, "--data-dir", dd2] + base[5:]))
    assert p.returncode == 1 and "frame %d at byte %d: checksum mismatch" % (
        len(frames), frames[-1][0]) in p.stderr, p
    assert os.listdir(dd2) == ["LOCK"], os.listdir(dd2)
    # What an interrupted restore leaves (its raft files half built, the
    # record, never raft/) counts as empty.
    dd3 = dd + "-3"
    os.makedirs(os.path.join(dd3, "raft.restoring"))
    with open(os.path.join(dd3, "raft.restoring", "metadata1"), "w") as f:
        f.write("x")
    shutil.copy(os.path.join(dd, "restored"), os.path.join(dd3, "restored"))
    p = _offline(*(base[:4] + [dd3] + base[5:]))
    assert p.returncode == 0 and p.stdout.startswith("restored "), p
    assert sorted(os.listdir(dd3)) == ["LOCK", "raft", "restored"]
    # raft's snapshot file names term and index: 1 and 2 (node/raft/restore.h).
    for where in (dd, dd3):
        names = os.listdir(os.path.join(where, "raft"))
        assert [n for n in names if n.startswith("snapshot-1-2-") and
                n.endswith(".meta")], names
    # A data dir a running node holds.
    x = c.nodes[0]
    p = _offline("restore", "--backup", path, "--data-dir", x.dir, "--id",
                 "1", "--peer", x.peer)
    assert p.returncode == 1 and "in use by another process" in p.stderr, p


# ---- the runbook of docs/node.md, as it stands -------------------------

def _runbook_blocks():
    """The sh blocks of docs/node.md's 'Disaster recovery', dedented."""
    with open(DOCS) as f:
        text = f.read()
    sec = text[text.index("## Disaster recovery"):]
    sec = sec[:sec.index("\n## ", 5)]
    return [textwrap.dedent(m.group(1)) for m in
            re.finditer(r"^ *```sh\n(.*?)^ *```$", sec, re.S | re.M)]


def _sh(block, cwd, env, timeout=120):
    path = os.path.dirname(NODE) + os.pathsep + os.environ["PATH"]
    return subprocess.run(["bash", "-c", block], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PATH=path, **env))


def test_recovery_runbook(c):
    """docs/node.md's disaster recovery, each sh block run as written:
    take a backup through a follower's URL (a wrong token leaves no file;
    a redirect body saved as a backup fails verification), lose the
    cluster, restore, start, check the root, join two nodes, rotate a
    principal's token and the admin token."""
    blocks = _runbook_blocks()
    assert len(blocks) == 7, blocks
    backup, verify, restore, check, join, rotate, rotate_admin = blocks
    lead, tok = _world(c, ["rb"], 30)
    follower = [x for x in c.nodes if x is not lead][0]
    work = tempfile.mkdtemp(prefix="provcat-runbook-", dir=c.dir)
    env = {"NODE": follower.url, "TOKEN": c.token}

    # Failure paths: a wrong token leaves no backup behind; a follower's
    # redirect saved by a curl without -f/-L is refused by verification.
    with open(os.path.join(work, "backup.snap"), "w") as f:
        f.write("stale")
    p = _sh(backup, work, dict(env, TOKEN="pct_wrong"))
    assert p.returncode == 22, p
    assert not os.path.exists(os.path.join(work, "backup.snap"))
    p = subprocess.run(["curl", "-sS", "-o", "backup.snap", "-D",
                        "backup.headers", "-H", "Authorization: Bearer " +
                        c.token, follower.url + "/v1/backup"], cwd=work,
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p
    p = _sh(verify, work, env)
    assert p.returncode == 1 and "bad magic" in p.stderr, p

    p = _sh(backup, work, env)
    assert p.returncode == 0, p
    p = _sh(verify, work, env)
    assert p.returncode == 0, p
    v = dict(line.split(None, 1) for line in p.stdout.splitlines())
    rev, root = int(v["revision"]), v["root"]
    assert int(v["records"]) == 30 and int(v["principals"]) == 2, v
    for x in c.nodes:
        x.kill(signal.SIGKILL)  # the disaster

    d = _new_cluster(c)
    try:
        n1, n2, n3 = d.nodes
        renv = {"DATA_DIR": n1.dir, "ID": "1", "PEER": n1.peer,
                "FIRST": n1.url, "TOKEN": c.token}
        p = _sh(restore, work, renv)
        assert p.returncode == 0 and p.stdout.startswith("restored "), p
        p = _sh(restore, work, renv)  # again: nothing to do
        assert p.returncode == 0 and "already holds" in p.stdout, p
        n1.start("existing")
        d.wait_ready(timeout=30)
        p = _sh(check, work, renv)
        assert p.returncode == 0, p
        vpath = os.path.join(work, "backup.verify")
        with open(vpath) as f:
            vtext = f.read()
        with open(vpath, "w") as f:  # a root the node does not have
            f.write(vtext.replace(root, "0" * 64))
        p = _sh(check, work, renv)
        assert p.returncode == 1, p
        assert _sh(verify, work, env).returncode == 0  # rewrites it
        for x in (n2, n3):
            x.start("existing")
            wait_for(lambda: x.status(), 10, "node %d up" % x.id)
            p = _sh(join, work, dict(renv, NEW_ID=str(x.id),
                                     NEW_PEER=x.peer, NEW_URL=x.url))
            assert p.returncode == 0, p
            assert _voter(n1, x)
        st = d.converged(timeout=30)
        for x in d.nodes:
            r = x.req("GET", "/v1/ledger?consistency=stale&tree_size=%d" %
                      rev, token=c.token)
            assert r.status == 200 and r.json["root"] == root, (x.id, r)
        assert st["revision"] >= rev

        # Every token of the backup works; rotate one, then the admin's.
        assert n1.req("GET", "/v1/whoami", token=tok["prov"]).status == 200
        p = _sh(rotate, work, dict(renv, PRINCIPAL="prov"))
        assert p.returncode == 0, p
        new_prov = p.stdout.strip()
        assert new_prov.startswith("pct_") and new_prov != tok["prov"]
        wait_for(lambda: n1.req("GET", "/v1/whoami",
                                token=tok["prov"]).status == 401, 10,
                 "the old token to stop working")
        r = n1.req("GET", "/v1/whoami", token=new_prov)
        assert r.status == 200 and r.json["id"] == "prov", r
        token_file = os.path.join(work, "admin.token")
        shutil.copy(d.token_file, token_file)
        p = _sh(rotate_admin, work, dict(renv, TOKEN_FILE=token_file))
        assert p.returncode == 0, p
        with open(token_file) as f:
            new_admin = f.read().strip()
        assert new_admin.startswith("pct_") and new_admin != c.token
        assert os.stat(token_file).st_mode & 0o777 == 0o600
        wait_for(lambda: n1.req("GET", "/v1/whoami",
                                token=c.token).status == 401, 10,
                 "the old admin token to stop working")
        assert n1.req("GET", "/v1/whoami", token=new_admin).status == 200
        # With the old token gone, the step fails and keeps the file.
        p = _sh(rotate_admin, work, dict(renv, TOKEN_FILE=token_file))
        assert p.returncode != 0, p
        with open(token_file) as f:
            assert f.read().strip() == new_admin
        d.converged()
    finally:
        d.close()



# A large ledger restored and joined under time bounds: alone.
SERIAL_TESTS = {"test_recovery_large"}

TESTS = [
    (test_recovery_restore_then_join, {}),
    (test_recovery_join_retried_after_give_up, {}),
    (test_recovery_restore_flag_twice, {}),
    (test_recovery_verify_backup_cli, {}),
    (test_recovery_runbook, {}),
]
if os.environ.get("PROVCAT_TEST_LARGE") == "1":
    TESTS.append((test_recovery_large, {}))
