#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Time a restore of a large backup (docs/bench.md, "Restore"), on
127.0.0.1 only. Not part of `make bench`: it takes minutes and gigabytes.

    BUILD=build/rel python3 tests/bench/restore.py [RECORDS|FILE] [OLD_NODE]

A one-node cluster gets RECORDS records (default 3,000,000; ~200-byte
documents, batches of 1000, 3 entries) and a backup is taken from it (or
FILE, a backup, is used; its admin token must be in FILE.token). Then, one
at a time on the same backup: verify-backup; `provcat-node --restore` from
start to /readyz answering 200 (also with OLD_NODE, another provcat-node
binary, when given); the offline `restore` and a normal start to ready;
and two empty nodes joining the restored one, each timed from POST
/v1/members to voter. Prints one `name value unit` line per result: wall
seconds, and the CPU seconds (user + system) the process used, which
other load on the machine changes far less."""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cluster import NODE, Cluster, wait_for  # noqa: E402
import test_recovery as tr  # noqa: E402


def report(name, value, unit):
    print("%s %s %s" % (name, value, unit), flush=True)


def ready(x, timeout=900):
    wait_for(lambda: x.req("GET", "/readyz").status == 200, timeout,
             "node %d ready" % x.id)


def cpu_s(pid):
    """User + system CPU seconds of a live process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_cpu_s():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def rss_mb(x):
    with open("/proc/%d/status" % x.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else "3000000"
    old = sys.argv[2] if len(sys.argv) > 2 else None
    c = Cluster(n=1, extra=["--snapshot-threshold", "1000000"], start=False)
    try:
        path = os.path.join(c.dir, "backup.snap")
        if arg.isdigit():
            n = int(arg)
            c.start_all()
            t0 = time.time()
            tr._world(c, ["B1", "B2", "B3"], n // 3, pad=200, updated=0)
            report("load_records_per_s", int(n / (time.time() - t0)),
                   "rec/s")
            tr._backup(c, c.leader(), path)
            c.close(keep=True)
        else:
            shutil.copy(arg, path)
            shutil.copy(arg + ".token", c.token_file)
        report("backup_bytes", os.path.getsize(path), "B")

        t0, u0 = time.time(), child_cpu_s()
        v = tr._verify(path)
        rev, root = int(v["revision"]), v["root"]
        report("backup_facts", rev, "facts")
        report("verify_backup", "%.1f" % (time.time() - t0), "s")
        report("verify_backup_cpu", "%.1f" % (child_cpu_s() - u0), "s")

        d = tr._new_cluster(c)
        try:
            n1, n2, n3 = d.nodes
            for name, binary in (("restore_flag_to_ready", NODE),
                                 ("old_restore_flag_to_ready", old)):
                if binary is None:
                    continue
                args = [binary, "--id", "1", "--data-dir", n1.dir, "--peer",
                        n1.peer, "--client", n1.client, "--log-level",
                        "warn", "--restore", path]
                t0 = time.time()
                n1.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
                ready(n1)
                report(name, "%.1f" % (time.time() - t0), "s")
                report(name.replace("to_ready", "cpu"),
                       "%.1f" % cpu_s(n1.proc.pid), "s")
                report(name.replace("to_ready", "peak_rss"), rss_mb(n1),
                       "MB")
                r = n1.req("GET", "/v1/ledger?tree_size=%d" % rev,
                           token=d.token)
                assert r.status == 200 and r.json["root"] == root, r
                assert n1.stop() == 0
                shutil.rmtree(n1.dir)

            t0, u0 = time.time(), child_cpu_s()
            tr._restore_offline(d, n1, path)
            report("offline_restore", "%.1f" % (time.time() - t0), "s")
            report("offline_restore_cpu", "%.1f" % (child_cpu_s() - u0),
                   "s")
            t0 = time.time()
            n1.start("existing")
            ready(n1)
            report("start_to_ready", "%.1f" % (time.time() - t0), "s")
            report("start_to_ready_cpu", "%.1f" % cpu_s(n1.proc.pid), "s")
            for x in (n2, n3):
                s = tr._join(d, n1, x, timeout=1800)
                report("join_node_%d" % x.id, "%.1f" % s, "s")
            st = d.converged(timeout=600)
            assert st["revision"] >= rev
        finally:
            d.close()
    finally:
        c.close()


if __name__ == "__main__":
    main()
