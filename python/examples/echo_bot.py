"""An echo bot: answers every text message with the same text, and keeps
doing so through network failures, server restarts and penalties, until
Ctrl-C (which logs it out).

    HTTPQQ_PASSWORD=demo python echo_bot.py 127.0.0.1 8000 10001
"""

import logging
import os
import sys

import httpqq

logging.basicConfig(level=logging.INFO)
host, port, uin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bot = httpqq.Bot(httpqq.Client(host, port), uin, os.environ["HTTPQQ_PASSWORD"])


@bot.on_message
def echo(message: httpqq.Message) -> None:
    if message.kind is httpqq.MessageKind.TEXT:
        bot.send(message.sender, f"echo: {message.text}")


@bot.on_state
def report(event: httpqq.Event) -> None:
    logging.info("%s", event)  # online, reconnecting (attempt, next try), throttled, …


if (stopped_by := bot.run()) is not None:
    sys.exit(f"stopped: {stopped_by}")
