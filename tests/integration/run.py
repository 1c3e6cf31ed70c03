# SPDX-License-Identifier: MIT
"""Run the integration tests; prints 'N passed, N failed' at the end.

Each test has INTEGRATION_TIMEOUT seconds (default 300): at the limit it
fails with a traceback of where it was waiting, its nodes are stopped and
the next test runs. A test that swallows that (or hangs where Python cannot
interrupt it) ends the whole run INTEGRATION_GRACE seconds later (default
30), naming it. INTEGRATION_TEST_DIR runs the test_*.py of another
directory (the runner's own test does).
"""
import os
import signal
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glob  # noqa: E402
import importlib  # noqa: E402

from cluster import Cluster, Skip  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The directory of the test_*.py modules; another only to test this runner.
TEST_DIR = os.environ.get("INTEGRATION_TEST_DIR", HERE)
LIMIT = float(os.environ.get("INTEGRATION_TIMEOUT", "300"))
# Seconds after LIMIT before the watchdog ends the run.
GRACE = float(os.environ.get("INTEGRATION_GRACE", "30"))
counts = {"passed": 0, "failed": 0, "skipped": 0}


class Hung(BaseException):
    """Raised in a test at its time limit; not an Exception, so that a
    test's own `except Exception` cannot take it for a failure it expects."""


def all_tests():
    """TESTS of every test_*.py module in TEST_DIR, in name order."""
    tests = []
    if TEST_DIR not in sys.path:
        sys.path.insert(0, TEST_DIR)
    for path in sorted(glob.glob(os.path.join(TEST_DIR, "test_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        tests.extend(mod.TESTS)
    return tests


def on_alarm(signum, frame):
    raise Hung()


def watchdog(name, done, cluster):
    """Last resort: the test ignored Hung. Name it, stop its nodes, exit."""
    if done.wait(LIMIT + GRACE):
        return
    print("[FAIL] %s hung: still running %d s after its %d s limit "
          "(INTEGRATION_TIMEOUT); stopping the run" % (name, GRACE, LIMIT),
          flush=True)
    for x in (cluster[0].nodes if cluster[0] is not None else []):
        if x.proc is not None and x.proc.poll() is None:
            x.proc.kill()
    summary(counts["passed"], counts["failed"] + 1)
    os._exit(1)


def summary(passed, failed):
    skipped = ", %d skipped (see [SKIP] above)" % counts["skipped"] \
        if counts["skipped"] else ""
    print("integration: %d passed, %d failed%s" % (passed, failed, skipped))
    print("%d passed, %d failed" % (passed, failed), flush=True)


def print_logs(c):
    for x in c.nodes:
        try:
            with open(x.log) as f:
                tail = f.read()[-2000:]
            code = x.proc.poll() if x.proc is not None else None
            print("--- node %d (%s) log tail ---\n%s" %
                  (x.id, "running" if code is None and x.proc
                   else "exit status %s" % code, tail))
        except OSError:
            pass


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else None
    signal.signal(signal.SIGALRM, on_alarm)
    for fn, opts in all_tests():
        if only and only not in fn.__name__:
            continue
        t0 = time.time()
        c = None
        holder = [None]
        done = threading.Event()
        threading.Thread(target=watchdog, args=(fn.__name__, done, holder),
                         daemon=True).start()
        signal.setitimer(signal.ITIMER_REAL, LIMIT)
        try:
            c = Cluster(**opts)
            holder[0] = c
            fn(c)
            signal.setitimer(signal.ITIMER_REAL, 0)
            counts["passed"] += 1
            print("[ OK ] %s (%.1fs)" % (fn.__name__, time.time() - t0),
                  flush=True)
        except Skip as e:
            # Never silent: the reason is printed and counted.
            signal.setitimer(signal.ITIMER_REAL, 0)
            counts["skipped"] += 1
            print("[SKIP] %s: %s" % (fn.__name__, e), flush=True)
        except (Exception, Hung) as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            counts["failed"] += 1
            if isinstance(e, Hung):
                print("[FAIL] %s hung: no result after %d s "
                      "(INTEGRATION_TIMEOUT); it was here:" %
                      (fn.__name__, LIMIT))
            else:
                print("[FAIL] %s (%.1fs)" % (fn.__name__, time.time() - t0))
            traceback.print_exc(file=sys.stdout)
            if c is not None:
                print_logs(c)
            sys.stdout.flush()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if c is not None:
                c.close(keep=False)
            done.set()
    summary(counts["passed"], counts["failed"])
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
