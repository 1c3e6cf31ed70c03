# SPDX-License-Identifier: MIT
"""Upgrading across rules versions (docs/node.md, Upgrading): a backup
taken by provcat-node 0.1.0 (tests/data/backup-0.1.0) restored with this
build; the ledger, its root and every token carry over, and the cluster
grows and takes writes."""
import os
import shutil
import stat

from cluster import Cluster, wait_for
from test_recovery import (_backup_provable, _join, _restore_offline,
                           _verify)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "backup-0.1.0")


def _expected():
    with open(os.path.join(DATA, "EXPECTED")) as f:
        kv = dict(line.split() for line in f if line.strip())
    return int(kv["revision"]), kv["root"]


def _token(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read().strip()


def test_upgrade_from_0_1_backup(c):
    """verify-backup accepts the 0.1.0 backup and names its revision and
    root; the offline restore and a normal start serve it at that root; the
    0.1.0 admin and provider tokens still work; records read as they were
    written (a1 at version 2, a3 retired); two empty nodes join; a write
    under this build's rules appends on top; the old root stays provable."""
    rev, root = _expected()
    backup = os.path.join(c.dir, "old.snap")
    shutil.copy(os.path.join(DATA, "backup.snap"), backup)
    v = _verify(backup)
    assert (int(v["revision"]), v["root"], v["records"]) == (rev, root, "3"), v

    d = Cluster(n=3, start=False)
    try:
        d.spec = ""
        shutil.copy(os.path.join(DATA, "admin.token"), d.token_file)
        os.chmod(d.token_file, stat.S_IRUSR | stat.S_IWUSR)
        n1, n2, n3 = d.nodes
        _restore_offline(d, n1, backup)
        n1.start("existing")
        d.wait_ready(timeout=30)
        st = n1.status()
        assert st["revision"] >= rev and st["rules"] == 2, st
        r = n1.req("GET", "/v1/ledger?tree_size=%d" % rev, token=d.token)
        assert r.status == 200 and r.json["root"] == root, r

        admin, prov = _token("admin.token"), _token("prov.token")
        r = n1.req("GET", "/v1/whoami", token=admin)
        assert r.status == 200 and r.json["id"] == "admin", r
        r = n1.req("GET", "/v1/whoami", token=prov)
        assert r.status == 200 and r.json["id"] == "prov", r
        r = n1.req("GET", "/v1/catalog/licences/records/a1", token=prov)
        assert r.status == 200 and r.json["version"] == 2, r
        assert r.json["value"] == {"name": "Shop a1 renamed", "year": 2021}
        r = n1.req("GET", "/v1/catalog/licences/records/a3", token=prov)
        assert r.status == 200 and r.json.get("retired") is True, r

        _join(d, n1, n2)
        _join(d, n1, n3)
        r = n1.req("PUT", "/v1/catalog/licences/records/b1",
                   {"name": "Shop b1", "year": 2026}, token=prov)
        assert r.status == 201 and r.json["version"] == 1, r
        st = d.converged()
        for x in d.nodes:
            _backup_provable(x, rev, root, st["revision"], d.token)
            r = x.req("GET", "/v1/catalog/licences/records/b1"
                      "?consistency=stale", token=prov)
            assert r.status == 200 and r.json["version"] == 1, (x.id, r)
        # Commands of this build carry its rules version, which genesis of
        # the 0.1.0 cluster did not know: the facts say which they are.
        r = n1.req("GET", "/v1/ledger/facts?from=1&limit=1", token=d.token)
        assert r.status == 200 and r.json["items"][0]["kind"] == "cluster"
        assert r.json["items"][0]["payload"]["rules"] == 1, r
        wait_for(lambda: n3.req("GET", "/readyz").status == 200, 10,
                 "node 3 ready")
    finally:
        d.close()


TESTS = [
    (test_upgrade_from_0_1_backup, {"n": 0, "start": False}),
]
