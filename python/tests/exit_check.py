"""Exits the interpreter with a daemon thread inside the native module, as
a bot script that falls off its end does: a `testing.Server`, a session, an
`events()` iterator on a daemon thread, and an agent's `next_event` on
another. Run by clean_install.sh against the installed wheel and the sdist
build, many times: any crash at exit (a segfault is status 139) fails.

    python exit_check.py
"""

import threading

import httpqq
from httpqq.testing import Server

server = Server()
client = server.client()
session = client.login(10001, "demo")
events = session.events(interval=0.2)
threading.Thread(target=lambda: [e for e in events], daemon=True).start()
agent = httpqq.Agent(client, 10002, "demo", poll_interval=0.2)
threading.Thread(target=lambda: [e for e in agent], daemon=True).start()
# Falls off the end with both threads waiting in the native module.
