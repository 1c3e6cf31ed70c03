# SPDX-License-Identifier: MIT
"""Run the integration tests; prints 'N passed, N failed' at the end.

Each test has INTEGRATION_TIMEOUT seconds (default 300): at the limit it
fails with a traceback of where it was waiting, its nodes are stopped and
the next test runs. A test that swallows that (or hangs where Python cannot
interrupt it) ends the whole run INTEGRATION_GRACE seconds later (default
30), naming it. INTEGRATION_TEST_DIR runs the test_*.py of another
directory (the runner's own test does).

Tests run INTEGRATION_JOBS at a time (default 3; 1 runs them one by one in
this process), each in a child runner of its own; a module marks the tests
that must run alone (they load the machine, measure time or use fixed
ports) with SERIAL = True or SERIAL_TESTS = {"test_name", ...}: those run
one by one after the others. A module whose tests share state says
ONE_PROCESS = True: they run in order in one child runner. `run.py NAME` runs the tests whose name
contains NAME.
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


def run_serially(tests):
    """Run `tests` one after the other in this process; the summary and the
    exit status cover them all."""
    signal.signal(signal.SIGALRM, on_alarm)
    for fn, opts in tests:
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


def units(tests):
    """The tests grouped into units a child runner runs in one process:
    one test each, or a whole module that says ONE_PROCESS = True (its
    tests share state, e.g. a last test checking what the others did).
    Each unit is (names, serial): serial when a test of it must run with
    no other test beside it, because its module says so (SERIAL = True, or
    its name in SERIAL_TESTS): it loads the machine, measures time or
    takes fixed ports."""
    out, grouped = [], {}
    for fn, _ in tests:
        mod = sys.modules[fn.__module__]
        serial = bool(getattr(mod, "SERIAL", False) or
                      fn.__name__ in getattr(mod, "SERIAL_TESTS", ()))
        if getattr(mod, "ONE_PROCESS", False):
            if mod.__name__ not in grouped:
                grouped[mod.__name__] = [[], False]
                out.append(grouped[mod.__name__])
            grouped[mod.__name__][0].append(fn.__name__)
            grouped[mod.__name__][1] |= serial
        else:
            out.append([[fn.__name__], serial])
    return [(names, serial) for names, serial in out]


def run_parallel(tests, jobs):
    """Run `tests` `jobs` units at a time, each in a child runner of its
    own (`run.py --exactly NAME,...`, with its own time limits and
    watchdog), then the serial units one by one. A unit's report is
    printed whole when it ends, so reports never interleave; the summary
    covers them all."""
    import subprocess

    all_units = units(tests)
    queue = [u for u in all_units if not u[1]]
    serial = [u for u in all_units if u[1]]
    passed = failed = 0
    running = []  # (names, process)

    def start(names):
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                              "--exactly", ",".join(names)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        running.append((names, p))

    def finish(entry):
        nonlocal passed, failed
        names, p = entry
        out = p.communicate()[0]
        # The child's own summary lines are its result; print the rest.
        lines = [x for x in out.splitlines()
                 if not x.startswith("integration: ") and
                 not (x.endswith(" failed") and x[:1].isdigit())]
        print("\n".join(lines), flush=True)
        for name in names:
            if "[ OK ] " + name + " (" in out:
                passed += 1
            else:
                failed += 1
                if "[FAIL] " + name not in out:
                    print("[FAIL] %s: not run to the end (its runner exited "
                          "%d)" % (name, p.returncode), flush=True)

    while queue or running:
        while queue and len(running) < jobs:
            start(queue.pop(0)[0])
        time.sleep(0.05)
        for entry in [e for e in running if e[1].poll() is not None]:
            running.remove(entry)
            finish(entry)
    for names, _ in serial:
        start(names)
        finish(running.pop())
    summary(passed, failed)
    return 1 if failed else 0


def main():
    args = sys.argv[1:]
    jobs = int(os.environ.get("INTEGRATION_JOBS", "3"))
    if args[:1] == ["--exactly"] and len(args) == 2:
        names = args[1].split(",")
        return run_serially([t for t in all_tests()
                             if t[0].__name__ in names])
    only = args[0] if args else None
    tests = [t for t in all_tests() if not only or only in t[0].__name__]
    if jobs <= 1 or len(tests) <= 1:
        return run_serially(tests)
    return run_parallel(tests, jobs)


if __name__ == "__main__":
    sys.exit(main())
