"""Runs a bot, as installed from a package, through the three ends an
unattended bot meets, and fails unless each is clean and prompt:

- stop: the bot stops its agent itself; its last event (stopped) comes,
  and the program ends with status 0;
- Ctrl-C: SIGINT while the bot's main thread waits inside the library for
  the agent's next event; it stops the agent and ends with status 130;
- exit: the program exits (status 0) while another thread (or, in Node, a
  call on the thread pool) is inside a login to a listener of this script
  that takes the connection and never answers; the call must still be in
  flight then ("returned" fails), and the exit must neither crash nor wait
  for the call. The listener lives here, not in the bot, so that nothing
  the bot tears down on its way out can answer the call first (a closed
  listener resets the connections it has not taken).

Each bot (bot.py, bot.js, bot.rb, bot.c) takes the end as its argument
(and, for exit, the listener's endpoint) and prints "ready <pid>" when it
is where the test wants it. Run by
packaging/check.sh and python/tests/clean_install.sh in their clean
places; prints how long each end took.

    python3 check.py LABEL COMMAND...
"""

import signal
import socket
import subprocess
import sys
import time

LIMIT = 15.0  # seconds: a hang guard, not a timing claim


def start(command: list[str], *args: str) -> subprocess.Popen[str]:
    # SIGINT as a terminal would deliver it, even when this runs with
    # SIGINT ignored (a background job of a non-interactive shell).
    return subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def finish(child: subprocess.Popen[str], what: str) -> tuple[int, str]:
    try:
        out, _ = child.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        sys.exit(f"{what}: not ended after {LIMIT:.0f} s\n{out}")
    return child.returncode, out


def ready_line(child: subprocess.Popen[str], what: str) -> str:
    assert child.stdout is not None
    line = child.stdout.readline()  # bounded by the bot's own 10 s waits
    if not line.startswith("ready"):
        child.kill()
        rest, _ = child.communicate()
        sys.exit(f"{what}: not ready: {line}{rest}")
    return line


def main() -> None:
    label, command = sys.argv[1], sys.argv[2:]
    figures = []

    began = time.monotonic()
    status, out = finish(start(command, "stop"), f"{label}, stop")
    if status != 0 or "stopped" not in out.split():
        sys.exit(f"{label}, stop: status {status}\n{out}")
    figures.append(f"stop {time.monotonic() - began:.2f} s")

    child = start(command, "sigint")
    ready_line(child, f"{label}, Ctrl-C")
    time.sleep(0.2)  # well inside the wait for the next event
    began = time.monotonic()
    child.send_signal(signal.SIGINT)
    status, out = finish(child, f"{label}, Ctrl-C")
    if status != 130 or "interrupted" not in out.split():
        sys.exit(f"{label}, Ctrl-C: status {status}\n{out}")
    figures.append(f"Ctrl-C to end {time.monotonic() - began:.2f} s")

    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.settimeout(LIMIT)
        port = silent.getsockname()[1]
        child = start(command, "exit", f"127.0.0.1:{port}")
        ready_line(child, f"{label}, exit")
        began = time.monotonic()
        try:
            taken, _ = silent.accept()  # the login's connection: it is in flight
        except TimeoutError:
            child.kill()
            sys.exit(f"{label}, exit: the login never connected")
        with taken:
            status, out = finish(child, f"{label}, exit")
    if status != 0 or "returned" in out:
        sys.exit(f"{label}, exit with a call in flight: status {status}\n{out}")
    figures.append(f"exit with a call in flight {time.monotonic() - began:.2f} s")

    print(f"   {label}: " + ", ".join(figures))


if __name__ == "__main__":
    main()
