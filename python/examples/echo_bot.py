"""An echo bot: answers every text message with the same text, until Ctrl-C.

    python echo_bot.py 127.0.0.1 8000 10001 demo
"""

import sys

import httpqq

host, port, uin, password = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with httpqq.Client(host, port).login(uin, password) as session:
    for message in session.events(interval=session.heartbeat / 2):
        if message.kind is httpqq.MessageKind.TEXT:
            session.send(message.sender, f"echo: {message.text}")
