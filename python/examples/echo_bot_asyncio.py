"""The echo bot with asyncio: async handlers on the agent's events;
cancelling (Ctrl-C, SIGTERM) cuts any request in flight short and logs out.

    HTTPQQ_PASSWORD=demo python echo_bot_asyncio.py 127.0.0.1 8000 10001
"""

import asyncio
import os
import sys

import httpqq
import httpqq.aio

host, port, uin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bot = httpqq.aio.Bot(httpqq.aio.Client(host, port), uin, os.environ["HTTPQQ_PASSWORD"], inbox="echo_bot.inbox")


@bot.on_message(kind=httpqq.MessageKind.TEXT)
async def echo(message: httpqq.Message) -> None:
    await bot.reply(message, f"echo: {message.text}")


@bot.on_state
async def report(event: httpqq.Event) -> None:
    print(event)


asyncio.run(bot.run())
