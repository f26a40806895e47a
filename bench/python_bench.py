"""Rows 3 and 7 of the benchmark table: the Python module against a
pure-Python client doing the same exchanges, and eight threads against one.

    python bench/python_bench.py --row 3 --server 127.0.0.1:PORT --canned PORT

    python bench/python_bench.py --row 7 --server 127.0.0.1:PORT

--server is a reference server with the accounts of bench/accounts.toml;
--canned is `httpqq-bench canned` (a user with 500 pending messages and 500
friends). Prints markdown table rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).parent))

import httpqq  # noqa: E402
from pyclient import PureClient  # noqa: E402

ROUNDS = 7


def per_op(iterations: int, op: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(iterations):
        op()
    return (time.perf_counter() - started) / iterations


def paired(iterations: int, baseline: Callable[[], object], subject: Callable[[], object]) -> tuple[float, float, float]:
    """Median times of baseline and subject, and the median of the per-round
    ratios baseline / subject (how many times faster the subject is)."""
    per_op(max(iterations // 10, 1), baseline)
    per_op(max(iterations // 10, 1), subject)
    b, s, r = [], [], []
    for _ in range(ROUNDS):
        tb = per_op(iterations, baseline)
        ts = per_op(iterations, subject)
        b.append(tb)
        s.append(ts)
        r.append(tb / ts)
    return statistics.median(s), statistics.median(b), statistics.median(r)


def row(n: str, what: str, subject: float, baseline_name: str, baseline: float, speedup: float, goal: str, met: bool) -> None:
    verdict = ("met" if met else "**missed**") if goal.startswith("≥") else "—"
    print(f"| {n} | {what} | {subject * 1e6:.0f} µs | {baseline_name} | {baseline * 1e6:.0f} µs | {speedup:.2f}× faster | {goal} | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--canned", type=int)
    parser.add_argument("--row", choices=["3", "7"], required=True)
    args = parser.parse_args()
    host, port = args.server.rsplit(":", 1)
    if args.row == "7":
        threads_row(host, int(port))
        return

    # Row 3a: GetMsgEx round trip (empty queue), new connection each.
    session = httpqq.Client(host, int(port)).login(10003, "demo")
    pure = PureClient(host, int(port))
    pure.login(10003, "demo")
    s, b, x = paired(500, pure.messages, session.messages)
    row("3", "Python: GetMsgEx round trip (empty queue), main thread", s, "pure-Python client", b, x, "≥ 1.3× faster", x >= 1.3)

    # Row 3a': the same on one kept connection each, where the connection's
    # own cost (which bounds 3a: even a client that took no time at all
    # would be about 1.6x faster than the pure-Python one) drops out. Both
    # on the main thread, where most scripts call.
    kept = httpqq.Client(host, int(port), keep_alive=True).login(10004, "demo")
    pure_kept = PureClient(host, int(port), keep_alive=True)
    pure_kept.login(10004, "demo")
    s, b, x = paired(2000, pure_kept.messages, kept.messages)
    row("3", "Python: GetMsgEx round trip (empty queue), keep-alive, main thread", s, "pure-Python client, keep-alive", b, x, "≥ 1.5× faster", x >= 1.5)
    kept.logout()

    # Rows 3b, 3c: 500 messages, 500 friends (the canned server).
    canned = httpqq.Client("127.0.0.1", args.canned).login(10001, "demo")
    pure_canned = PureClient("127.0.0.1", args.canned)
    pure_canned.login(10001, "demo")
    assert len(canned.messages()) == len(pure_canned.messages()) == 500
    assert canned.messages()[7].text == pure_canned.messages()[7].text
    s, b, x = paired(50, pure_canned.messages, canned.messages)
    row("3", "Python: GetMsgEx reply of 500 messages", s, "pure-Python client", b, x, "≥ 2× faster", x >= 2)
    assert canned.friends(max=500) == pure_canned.friends(500)
    s, b, x = paired(100, lambda: pure_canned.friends(500), lambda: canned.friends(max=500))
    row("3", "Python: List of 500 friends", s, "pure-Python client", b, x, "≥ 2× faster", x >= 2)

    session.logout()  # (the canned server answers nothing but its three)


def threads_row(host: str, port: int) -> None:
    """Row 7: eight threads with eight sessions against one thread, on kept
    connections (as a busy bot would use)."""
    client = httpqq.Client(host, port, keep_alive=True)
    sessions = [client.login(30000 + n, "pw") for n in range(8)]
    duration = 2.0

    def rate(threads: int) -> float:
        counts = [0] * threads
        stop = time.perf_counter() + duration

        def work(i: int) -> None:
            s = sessions[i]
            while time.perf_counter() < stop:
                s.messages()
                counts[i] += 1

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return sum(counts) / duration

    ones, eights, ratios = [], [], []
    for _ in range(5):
        one, eight = rate(1), rate(8)
        ones.append(one)
        eights.append(eight)
        ratios.append(eight / one)
    x = statistics.median(ratios)
    verdict = "met" if x >= 1.6 else "**missed**"
    print(
        f"| 7 | Python: 8 threads × 8 sessions, GetMsgEx round trips, keep-alive | {statistics.median(eights):.0f}/s "
        f"| 1 thread | {statistics.median(ones):.0f}/s | {x:.2f}× | ≥ 1.6× | {verdict} |"
    )
    for session in sessions:
        session.logout()


if __name__ == "__main__":
    main()
