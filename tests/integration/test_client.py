# SPDX-License-Identifier: MIT
"""libprovcat: its cmocka tests against a real cluster
(build/tests/client/test_client, which starts its own), the symbols the
libraries export, and `make install-client` with an example program built
against the installed pkg-config file and run against a cluster."""
import os
import subprocess
import tempfile

BUILD = os.environ.get("BUILD", "build")


def test_client_library(c):
    """The library's cmocka tests: calls, errors, redirects, failover,
    proofs, the state file, and writes while the leader is killed."""
    binary = os.path.join(BUILD, "tests", "client", "test_client")
    p = subprocess.run([binary], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, BUILD=BUILD))
    print(p.stderr[-3000:] if p.returncode else p.stderr.strip()
          .splitlines()[-1:])
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert "FAILED" not in p.stdout, p.stdout


def _planned_routes():
    """{"GET /v1/quality", ...}: the operations docs/openapi.yaml marks
    `x-provcat-status: planned`."""
    planned, path, method = set(), None, None
    with open("docs/openapi.yaml") as f:
        for line in f:
            if line.startswith("  /"):
                path = line.strip().rstrip(":")
            elif path and line.startswith("    ") and \
                    not line.startswith("     ") and line.strip().rstrip(
                        ":") in ("get", "put", "post", "delete"):
                method = line.strip().rstrip(":").upper()
            elif line.startswith("components:"):
                break
            elif "x-provcat-status: planned" in line and method:
                planned.add("%s %s" % (method, path))
    return planned


def test_client_workflow_library(c):
    """The workflow calls' cmocka tests (share requests and grants, the
    public lists, the calendar and open requests, objections and
    redaction, the ledger's facts, the reports and digests). A test of a
    route the node does not serve yet skips naming it; each such route
    must still be marked planned in docs/openapi.yaml, and each skip must
    name its route, so no test passes silently."""
    binary = os.path.join(BUILD, "tests", "client", "test_workflow")
    p = subprocess.run([binary], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, BUILD=BUILD))
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert "FAILED" not in p.stdout, p.stdout
    skipped = [l.split()[3] for l in p.stdout.splitlines()
               if l.startswith("[  SKIPPED ] test_")]
    skipped = sorted(set(skipped))
    routes = [" ".join(l.split()[1:3]) for l in p.stdout.splitlines()
              if l.startswith("SKIPPED-ROUTE: ")]
    assert len(routes) == len(skipped), (routes, skipped)
    planned = _planned_routes()
    for r in routes:
        assert r in planned, ("%s skipped, but docs/openapi.yaml serves it"
                              % r)
        print("[SKIP] %s: not served yet (planned in docs/openapi.yaml)" % r)
    passed = [l for l in p.stdout.splitlines() if l.startswith("[       OK ]")]
    assert len(passed) + len(skipped) == 11, p.stdout


def _globals(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    names = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] not in ("U", "w", "v"):
            names.append(parts[2])
    return names


def test_client_exports_only_provcat_symbols(c):
    """libprovcat.so exports, and libprovcat.a defines globally, provcat_*
    alone (the rest is hidden, then made local in the archive)."""
    so = _globals(["nm", "-D", "--defined-only",
                   os.path.join(BUILD, "libprovcat.so")])
    ar = _globals(["nm", "-g", "--defined-only",
                   os.path.join(BUILD, "libprovcat.a")])
    for names in (so, ar):
        assert "provcat_new" in names and "provcat_records_batch" in names
        stray = [n for n in names if not n.startswith("provcat_")]
        assert not stray, stray
    # The header needs nothing but the standard library.
    with open("client/provcat.h") as f:
        includes = [l for l in f if l.startswith("#include")]
    assert all(i.split()[1] in ("<stdbool.h>", "<stddef.h>", "<stdint.h>")
               for i in includes), includes


def test_client_install_and_example(c):
    """make install-client into a DESTDIR; the example built with the
    installed provcat.pc writes and reads a record on a live cluster."""
    from test_records import _publish, _world
    lead, tok = _world(c)
    _publish(lead, tok, "ex")
    with tempfile.TemporaryDirectory() as d:
        dest = os.path.join(d, "root")
        subprocess.run(["make", "--no-print-directory", "-s", "BUILD=" + BUILD,
                        "DESTDIR=" + dest, "PREFIX=/usr/local",
                        "install-client"], check=True, capture_output=True,
                       timeout=600)
        lib = os.path.join(dest, "usr/local/lib")
        for f in ("libprovcat.a", "libprovcat.so", "libprovcat.so.1",
                  "pkgconfig/provcat.pc"):
            assert os.path.exists(os.path.join(lib, f)), f
        assert os.path.exists(os.path.join(dest, "usr/local/include/"
                                                 "provcat.h"))
        assert os.access(os.path.join(dest, "usr/local/bin/provcat"),
                         os.X_OK)
        env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=dest,
                   PKG_CONFIG_PATH=os.path.join(lib, "pkgconfig"))
        flags = subprocess.run(["pkg-config", "--cflags", "--libs",
                                "provcat"], env=env, capture_output=True,
                               text=True, check=True).stdout.split()
        exe = os.path.join(d, "hello")
        subprocess.run(["cc", "-o", exe, "client/examples/hello.c"] + flags,
                       check=True, timeout=120)
        run_env = dict(os.environ, LD_LIBRARY_PATH=lib,
                       PROVCAT_ENDPOINTS=",".join(x.url for x in c.nodes),
                       PROVCAT_TOKEN=tok["prov"])
        p = subprocess.run([exe, "ex", "greeting"], env=run_env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout == 'wrote version 1, read {"name":"hello"}\n', p.stdout
        # A failing call: its message and exit status 1.
        p = subprocess.run([exe, "nope", "greeting"], env=run_env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1, p.stderr
        assert p.stderr == 'hello: put record: no catalog entry "nope"\n', p.stderr



# Kills leaders during a write loop with time bounds: alone.
SERIAL_TESTS = {"test_client_library"}

TESTS = [
    (test_client_library, {"n": 0, "start": False}),
    (test_client_workflow_library, {"n": 0, "start": False}),
    (test_client_exports_only_provcat_symbols, {"n": 0, "start": False}),
    (test_client_install_and_example, {}),
]
