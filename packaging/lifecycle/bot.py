"""A bot on the installed httpqq package, run by check.py to one of three
ends: `stop`, `sigint` (Ctrl-C while waiting for an event) or `exit` (with
a thread inside a login to ENDPOINT, check.py's listener that never
answers).

    python bot.py stop|sigint|exit ENDPOINT
"""

import os
import sys
import threading
import time

import httpqq
from httpqq.testing import Server


def online(agent: httpqq.Agent) -> None:
    while True:
        event = agent.next_event(timeout=10)
        if event is None:
            sys.exit("no event within 10 s")
        if event.kind == httpqq.EventKind.ONLINE:
            return


def main(end: str, endpoint: str = "") -> int:
    if end == "exit":
        host, port = endpoint.rsplit(":", 1)
        client = httpqq.Client(host, int(port), timeout=60)

        def login() -> None:
            try:
                client.login(10001, "demo")
            finally:
                print("returned", flush=True)

        threading.Thread(target=login, daemon=True).start()
        time.sleep(0.3)
        print(f"ready {os.getpid()}", flush=True)
        return 0
    with Server() as server, httpqq.Agent(server.client(), 10001, "demo") as agent:
        online(agent)
        if end == "stop":
            agent.stop()
            kinds = [event.kind for event in agent]  # ends with the stopped event
            print("stopped" if kinds[-1:] == [httpqq.EventKind.STOPPED] else kinds)
            return 0
        print(f"ready {os.getpid()}", flush=True)
        try:
            for _ in agent:
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            return 130
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
