#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Time `provcat-reconcile source` on a large export (docs/bench.md,
"Reconciliation"), on 127.0.0.1 only. Not part of `make bench`: loading
the records takes minutes and a gigabyte or two.

    BUILD=build/rel python3 tests/bench/reconcile_source.py [ROWS]

A one-node cluster gets ROWS records (default 1,000,000) in one entry of
six typed fields (~150-byte documents, batches of 1000 from four threads).
A CSV export of the same rows is written with one row in a thousand
changed, one in a thousand left out and one in a thousand added, in
random order (so the tool must sort it). GET /v1/ledger/digests is timed
on the loaded node (now, 100000 facts back, a page of heads). Then, timed: `source` against
the live node; against a backup of it with no request to the node; and
live again with --memory 64, so the sort spills runs to disk. Each run's
report counts are checked against what was planted. Prints one
`name value unit` line per result: wall seconds, rows per second and the
CPU seconds the tool used."""
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cluster import Cluster  # noqa: E402
import test_reconcile as tr  # noqa: E402

FIELDS = [{"name": "name", "type": "string", "required": True},
          {"name": "n", "type": "integer", "required": False},
          {"name": "x", "type": "number", "required": False},
          {"name": "ok", "type": "boolean", "required": False},
          {"name": "d", "type": "date", "required": False},
          {"name": "city", "type": "string", "required": False}]


def report(name, value, unit):
    print("%s %s %s" % (name, value, unit), flush=True)


def value(i):
    return {"name": "holder number %d of the licence" % i, "n": i,
            "x": i / 8, "ok": i % 3 == 0,
            "d": "20%02d-%02d-%02d" % (i % 30, i % 12 + 1, i % 28 + 1),
            "city": ["Hangzhou", "Ningbo", "Wenzhou", "Jiaxing"][i % 4]}


def key(i):
    return "L%09d" % i


def load(lead, tok, rows):
    """ROWS records through records:batch, four threads."""
    todo = list(range(0, rows, 1000))
    lock = threading.Lock()
    errors = []

    def work():
        while True:
            with lock:
                if not todo or errors:
                    return
                start = todo.pop()
            body = {"records": [{"key": key(i), "value": value(i)}
                                for i in range(start,
                                               min(start + 1000, rows))]}
            r = lead.req("POST", "/v1/catalog/big/records:batch", body,
                         token=tok["prov"], timeout=120)
            if r.status != 200:
                errors.append(r)
    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


def write_csv(path, rows):
    """The export: 1/1000 changed, 1/1000 left out, 1/1000 added."""
    order = list(range(rows))
    random.Random(1).shuffle(order)
    changed = left_out = 0
    with open(path, "w") as f:
        f.write("licence,name,n,x,ok,d,city\n")
        for i in order:
            if i % 1000 == 1:
                left_out += 1
                continue
            v = value(i)
            if i % 1000 == 2:
                v["name"] = "changed"
                changed += 1
            f.write("%s,%s,%d,%r,%s,%s,%s\n" % (
                key(i), v["name"], v["n"], v["x"],
                "true" if v["ok"] else "false", v["d"], v["city"]))
        added = rows // 1000
        for j in range(added):
            f.write("%s,new,%d,,,,\n" % ("N%09d" % j, j))
    return changed, left_out, added


def digests(c, lead):
    """GET /v1/ledger/digests on the loaded node: every entry now; at the
    oldest revision it serves (every record fact since taken back out);
    the first 1000 heads of the big entry. The best of five, in ms."""
    rev = lead.status()["revision"]
    back = max(1, rev - 100000)
    for name, q in (("now", ""), ("at_window", "?at_revision=%d" % back),
                    ("entry_page", "?entry=big&limit=1000")):
        best = None
        for _ in range(5):
            t0 = time.time()
            r = lead.req("GET", "/v1/ledger/digests" + q, token=c.token)
            ms = (time.time() - t0) * 1000
            assert r.status == 200, r
            best = ms if best is None else min(best, ms)
        report("digests_%s_ms" % name, "%.1f" % best, "ms")
    report("digests_window_facts", rev - back, "facts")


def run(c, args):
    t0 = time.time()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = tr._tool(c, *args, timeout=3600)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.time() - t0
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return p, wall, cpu


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    c = Cluster(n=1)
    try:
        lead, tok = tr._world(c)
        body = {"id": "big", "title": "big", "description": "",
                "provider": "dept", "theme": "t", "keywords": [],
                "fields": FIELDS,
                "share": {"class": "unconditional", "conditions": ""},
                "open": {"class": "none", "conditions": "",
                         "basis": "art. 12"},
                "update_frequency": "daily", "security_level": 2,
                "scope": "province"}
        assert lead.req("POST", "/v1/catalog", body,
                        token=tok["prov"]).status == 201
        assert lead.req("POST", "/v1/catalog/big/submit",
                        token=tok["prov"]).status == 200
        assert lead.req("POST", "/v1/catalog/big/review",
                        {"decision": "approve"},
                        token=tok["admin"]).status == 200
        t0 = time.time()
        load(lead, tok, rows)
        report("reconcile_load_records", rows, "records")
        report("reconcile_load_s", "%.1f" % (time.time() - t0), "s")
        digests(c, lead)
        csv = os.path.join(c.dir, "export.csv")
        changed, left_out, added = write_csv(csv, rows)
        report("reconcile_csv_mb", "%.0f" % (os.path.getsize(csv) / 1e6),
               "MB")
        snap = os.path.join(c.dir, "backup.snap")
        tr._backup(c, lead, snap)
        want = {"differs": changed, "extra": left_out, "missing": added,
                "same": rows - changed - left_out}
        for name, extra in (("live", []), ("backup", ["--backup", snap]),
                            ("live_spill", ["--memory", "64"])):
            p, wall, cpu = run(c, ["-o", "json", "source", "big", csv,
                                   "--key", "licence", "--no-report"] +
                               extra)
            assert p.returncode == 1, p.stderr
            out = json.loads(p.stdout)
            counts = out["counts"]
            report("reconcile_source_%s_sort_runs" % name,
                   out["sort_runs"], "runs")
            for k, v in want.items():
                assert counts[k] == v, (name, counts, want)
            report("reconcile_source_%s_s" % name, "%.1f" % wall, "s")
            report("reconcile_source_%s_rows_per_s" % name,
                   "%.0f" % (rows / wall), "rows/s")
            report("reconcile_source_%s_cpu_s" % name, "%.1f" % cpu, "s")
    finally:
        c.close()


if __name__ == "__main__":
    main()
