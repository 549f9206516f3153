#!/usr/bin/env python3
"""Plays the people of an exercise at a pseudo-terminal: runs COMMAND on
one, and answers each question the tool asks, in order, with the next
ANSWER: `ready:` presses Enter at "press Enter", `pin:DIGITS` types a PIN
(chosen or asked for), `words:yes|no` answers the CA's word comparison.
An answer is typed only once its question appears, and a question of the
wrong kind fails the run. Prints what the tool printed and "EXIT N".

Usage: exercise.py ANSWER... -- COMMAND [ARG...]
"""
import os
import pty
import select
import sys
import time

QUESTIONS = {
    "ready": [b"press Enter when you are ready"],
    "pin": [b"type your PIN: ", b"digits): ", b"PIN again: "],
    "words": [b"match those read over the phone? (yes/no)"],
}


def read_until(fd, seen, wanted, deadline):
    """Reads until one of `wanted` appears after what was seen before."""
    start = len(seen)
    while not any(text in seen[start:] for text in wanted):
        if time.time() > deadline:
            return seen, False
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return seen, False
            if not data:
                return seen, False
            seen += data
    return seen, True


def main():
    split = sys.argv.index("--")
    answers, command = sys.argv[1:split], sys.argv[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    seen = b""
    deadline = time.time() + 120
    for answer in answers:
        kind, _, text = answer.partition(":")
        seen, found = read_until(fd, seen, QUESTIONS[kind], deadline)
        if not found:
            print(seen.decode(errors="replace"))
            print("NO QUESTION FOR", answer)
            print("EXIT 99")
            return 0
        time.sleep(0.05)
        os.write(fd, text.encode() + b"\r")
        # The answer's echo (if any) and the question's tail are consumed
        # before the next question is looked for.
        seen += b"\n"
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
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
