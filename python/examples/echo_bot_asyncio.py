"""The echo bot with asyncio: the agent's threads wake the event loop, and
cancelling (Ctrl-C in asyncio.run) stops it cleanly.

    HTTPQQ_PASSWORD=demo python echo_bot_asyncio.py 127.0.0.1 8000 10001
"""

import asyncio
import os
import sys

import httpqq
import httpqq.aio


async def main(host: str, port: int, uin: int) -> None:
    client = httpqq.aio.Client(host, port)
    async with client.agent(uin, os.environ["HTTPQQ_PASSWORD"]) as agent:
        async for event in agent:
            message = event.message
            if message is not None and message.kind is httpqq.MessageKind.TEXT:
                await agent.send(message.sender, f"echo: {message.text}")
            elif message is None:
                print(event)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
