# SPDX-License-Identifier: MIT
"""Run the integration tests; prints 'N passed, N failed' at the end."""
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glob  # noqa: E402
import importlib  # noqa: E402

from cluster import Cluster  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def all_tests():
    """TESTS of every tests/integration/test_*.py module, in name order."""
    tests = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        tests.extend(mod.TESTS)
    return tests


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else None
    passed = failed = 0
    for fn, opts in all_tests():
        if only and only not in fn.__name__:
            continue
        t0 = time.time()
        c = None
        try:
            c = Cluster(**opts)
            fn(c)
            passed += 1
            print("[ OK ] %s (%.1fs)" % (fn.__name__, time.time() - t0),
                  flush=True)
        except Exception:
            failed += 1
            print("[FAIL] %s (%.1fs)" % (fn.__name__, time.time() - t0))
            traceback.print_exc()
            if c is not None:
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
            sys.stdout.flush()
        finally:
            if c is not None:
                c.close(keep=False)
    print("integration: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
