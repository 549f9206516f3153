#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal, as an officer at a real terminal
would, waits until it prints TEXT, then types Ctrl-C (the terminal turns it
into SIGINT) and reports what the command printed and how it exited.

Usage: interrupt.py TEXT COMMAND [ARG...]
"""
import os
import pty
import select
import sys
import time


def main():
    wait_for, command = sys.argv[1].encode(), sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    seen = b""
    deadline = time.time() + 60
    while wait_for not in seen:
        if time.time() > deadline:
            print(seen.decode(errors="replace"))
            print("TIMEOUT")
            return 2
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
    time.sleep(0.3)
    os.write(fd, b"\x03")
    while True:
        ready, _, _ = select.select([fd], [], [], 10)
        if not ready:
            break
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    _, status = os.waitpid(pid, 0)
    print(seen.decode(errors="replace"))
    print("EXIT", os.waitstatus_to_exitcode(status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
