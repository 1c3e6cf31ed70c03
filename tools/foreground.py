#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run a command in a process group of its own that holds the terminal.

Ctrl-C then reaches that command alone, not make or the shell around it:
`make run` stops its nodes on Ctrl-C and exits 0, where make, had the
terminal sent the SIGINT to it too, would die of it (status 130) once the
cluster script had stopped cleanly. Without a terminal, or when not in the
terminal's foreground, the command just runs in place. Exits with the
command's status; SIGTERM and SIGHUP sent to this process are passed on to
the command's group.
"""
import os
import signal
import sys

USAGE = "usage: tools/foreground.py COMMAND [ARG]..."


def holds_terminal(fd):
    try:
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


def give_terminal(fd, pgrp):
    """tcsetpgrp from a background group: SIGTTOU must be ignored."""
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, pgrp)
    finally:
        signal.signal(signal.SIGTTOU, old)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if len(argv) < 2 else sys.stdout)
        return 2 if len(argv) < 2 else 0
    cmd = argv[1:]
    tty = 0
    if not holds_terminal(tty):
        os.execvp(cmd[0], cmd)
    mine = os.getpgrp()
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        give_terminal(tty, os.getpid())
        os.execvp(cmd[0], cmd)
    try:
        os.setpgid(pid, pid)  # whichever of the two runs first
    except OSError:
        pass

    def forward(signum, frame):
        try:
            os.killpg(pid, signum)
        except OSError:
            pass
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    try:
        give_terminal(tty, mine)
    except OSError:
        pass
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
