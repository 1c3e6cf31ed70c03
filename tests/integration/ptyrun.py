# SPDX-License-Identifier: MIT
"""Run a command on a pseudo-terminal as a person at a terminal would: read
what it prints, type Ctrl-C, see how it exits.

As a program it checks `make run` (or any command printing its banner):

    python3 tests/integration/ptyrun.py [--timeout S] -- COMMAND [ARG]...

waits for the banner's last line, requires 200 from /readyz at the leader
address the banner names, types Ctrl-C, and requires exit status 0 and
every node address of the banner closed. Prints the transcript; exits 0
when all of that held, 1 otherwise (saying what did not). Only the Python
standard library, so it runs on a fresh machine.
"""
import os
import pty
import re
import select
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

BANNER_END = rb"Ctrl-C stops all nodes\."


class PtyRun:
    """COMMAND on a new pseudo-terminal, in a session of its own."""

    def __init__(self, argv, env=None, cwd=None):
        self.argv = argv
        self.out = b""
        self.status = None
        pid, fd = pty.fork()
        if pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.execvpe(argv[0], argv, env if env is not None
                           else os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd

    def text(self):
        return self.out.decode(errors="replace")

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: every holder of the terminal has closed it
            data = b""
        self.out += data
        return bool(data)

    def expect(self, pattern, timeout):
        """Wait until the output matches `pattern` (bytes regex); the match.
        AssertionError with the transcript on a timeout or an early exit."""
        deadline = time.time() + timeout
        while True:
            m = re.search(pattern, self.out)
            if m:
                return m
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no %r after %d s; output:\n%s" %
                                     (pattern, timeout, self.text()))
            if not self._read(min(left, 0.5)) and self.poll() is not None:
                raise AssertionError("%s exited (%s) before %r; output:\n%s"
                                     % (self.argv[0], self.status, pattern,
                                        self.text()))

    def ctrl_c(self):
        os.write(self.fd, b"\x03")

    def poll(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def wait(self, timeout):
        """The exit status (negative: killed by that signal), reading the
        output meanwhile. AssertionError if it is still running then."""
        deadline = time.time() + timeout
        while self.poll() is None:
            if time.time() > deadline:
                raise AssertionError("%s still running %d s later; output:\n%s"
                                     % (self.argv[0], timeout, self.text()))
            self._read(0.1)
        while self._read(0):  # what it printed last
            pass
        return self.status

    def close(self):
        """Kill what is left of it (its session's process group)."""
        if self.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.wait(10)
        os.close(self.fd)


def http_status(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def port_open(hostport):
    host, port = hostport.rsplit(":", 1)
    s = socket.socket()
    s.settimeout(1)
    try:
        return s.connect_ex((host, int(port))) == 0
    finally:
        s.close()


def check_run(argv, env=None, cwd=None, timeout=900):
    """Run a `make run`-like COMMAND on a terminal: its banner, /readyz at
    the leader it names, then Ctrl-C and exit 0 with every node closed.
    Returns (transcript, the banner's addresses). AssertionError else."""
    p = PtyRun(argv, env=env, cwd=cwd)
    try:
        p.expect(BANNER_END, timeout)
        banner = p.text()
        leader = re.search(r"leader\s+(http://[0-9.]+:\d+)", banner)
        assert leader, "the banner names no leader:\n" + banner
        nodes = re.findall(r"node \d\s+http://([0-9.]+:\d+)\s+\(raft "
                           r"([0-9.]+:\d+)\)", banner)
        assert len(nodes) == 3, "the banner lists %d nodes:\n%s" % (
            len(nodes), banner)
        code = http_status(leader.group(1) + "/readyz")
        assert code == 200, "%s/readyz answered %s" % (leader.group(1), code)
        p.ctrl_c()
        status = p.wait(60)
        assert status == 0, "exit status %s after Ctrl-C; output:\n%s" % (
            status, p.text())
        still = [a for pair in nodes for a in pair if port_open(a)]
        assert not still, "still listening after Ctrl-C: %s" % still
        return p.text(), {"leader": leader.group(1), "nodes": nodes}
    finally:
        p.close()


def main(argv):
    timeout = 900
    args = argv[1:]
    if args[:1] == ["--timeout"]:
        timeout = float(args[1])
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        out, info = check_run(args, timeout=timeout)
    except AssertionError as e:
        print("ptyrun: %s" % e)
        return 1
    sys.stdout.write(out)
    print("\nptyrun: banner, %s/readyz 200, Ctrl-C, exit 0, nodes closed"
          % info["leader"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
