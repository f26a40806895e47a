// A bot on the installed httpqq package, run by check.py to one of three
// ends: `stop`, `sigint` (Ctrl-C while waiting for an event: the bot
// stops its agent) or `exit` (process.exit with a login that gets no
// answer still on the thread pool: ENDPOINT is check.py's listener).
//
//   node bot.js stop|sigint|exit [ENDPOINT]
'use strict';
const httpqq = require('httpqq');

async function online(agent) {
  for (;;) {
    const event = await agent.nextEvent(10000);
    if (!event) throw new Error('no event within 10 s');
    if (event.kind === 'online') return;
  }
}

// The events up to the last (stopped); `timeoutMs` each, or no limit.
async function untilStopped(agent, timeoutMs) {
  for (;;) {
    const event = await agent.nextEvent(timeoutMs);
    if (event === null) throw new Error('not stopped within 10 s');
    if (event === undefined || event.kind === 'stopped') return event;
  }
}

async function main(end, endpoint) {
  if (end === 'exit') {
    const client = new httpqq.Client(endpoint, { timeoutMs: 60000 });
    client.login(10001, 'demo').finally(() => console.log('returned'));
    setTimeout(() => {
      console.log(`ready ${process.pid}`);
      process.exit(0);
    }, 300);
    return;
  }
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint);
  const agent = client.agent(10001, 'demo');
  await online(agent);
  if (end === 'stop') {
    agent.stop();
    const last = await untilStopped(agent, 10000);
    console.log(last && last.kind === 'stopped' ? 'stopped' : `last: ${last}`);
  } else {
    process.on('SIGINT', () => agent.stop());
    console.log(`ready ${process.pid}`);
    await untilStopped(agent);
    console.log('interrupted');
    process.exitCode = 130;
  }
  await agent.close();
  await client.close();
  await server.close();
}

main(process.argv[2], process.argv[3]).catch((err) => {
  console.error(err);
  process.exit(1);
});
