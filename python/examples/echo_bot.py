"""An echo bot: answers every text message with the same text, and keeps
doing so through network failures, server restarts and penalties. With its
inbox file no message is lost to a crash or a kill; Ctrl-C and SIGTERM log
it out (exit status 130 and 143), a refused login ends it with status 1.

    HTTPQQ_PASSWORD=demo python echo_bot.py 127.0.0.1 8000 10001
"""

import logging
import os
import sys

import httpqq

logging.basicConfig(level=logging.INFO)
host, port, uin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bot = httpqq.Bot(httpqq.Client(host, port), uin, os.environ["HTTPQQ_PASSWORD"], inbox="echo_bot.inbox")


@bot.command("help")
def help(message: httpqq.Message, args: str) -> None:
    message.reply("I repeat what you say.")


@bot.on_message(kind=httpqq.MessageKind.TEXT)
def echo(message: httpqq.Message) -> None:
    message.reply(f"echo: {message.text}")


@bot.on_state
def report(event: httpqq.Event) -> None:
    logging.info("%s", event)  # online, reconnecting (attempt, next try), throttled, …


@bot.on_error
def failed(error: Exception, message: "httpqq.Message | None") -> None:
    logging.warning("could not answer %s: %s", message, error)


try:
    bot.run()
except httpqq.LoginFailed as refused:
    sys.exit(f"login refused: {refused.reason}")
