// Compiled by `tsc --noEmit` in the tests: the README's example, typed.
import { Client, LoginFailed, Message, Server } from '..';

async function main(): Promise<void> {
  const server = Server.start();
  const client = new Client(server.endpoint, { timeoutMs: 5000 });
  const alice = await client.login(10001, 'demo');
  await alice.send(10002, '你好 & 1+1=2');
  const bot = client.agent(10002, 'demo', { pollIntervalMs: 1000, inbox: 'echo.inbox', sendPace: { count: 90, windowMs: 10000 } });
  // @ts-expect-error: a misspelled option is a type error
  client.agent(10002, 'demo', { pollInterval: 1000 });
  // @ts-expect-error: so is a value of the wrong type
  client.agent(10002, 'demo', { sendPace: 5 });
  server.throttle(10002, 3000);
  server.stopListening();
  server.restart();
  for await (const event of bot) {
    const message: Message | null = event.message;
    if (message !== null) await bot.send(message.sender, `echo: ${message.text}`);
    if (event.kind === 'stopped') break;
  }
  try {
    await client.login(10001, 'wrong');
  } catch (err) {
    if (err instanceof LoginFailed) console.log(err.reason, err.outcome);
  }
  await Promise.all([bot.close(), alice.close(), client.close(), server.close()]);
}

void main;
