// Row 16: the Node binding's resident memory over 100,000 rounds.
//
//   node --expose-gc bench/node_memory.js ENDPOINT MODE ROUNDS
//
// MODE is `chat` (Alice sends to Bob, Bob fetches, over kept connections)
// or `sessions` (a login, a GetMsgEx, a logout and a close per round: a
// native handle made and freed each time). Prints one JSON line: the RSS
// and V8's heap after the warm-up (the first tenth) and at the end.
'use strict';
const httpqq = require('../bindings/node');

(async () => {
  const [endpoint, mode, roundsText] = process.argv.slice(2);
  const rounds = Number(roundsText || 100000);
  if (!global.gc) throw new Error('run node with --expose-gc');
  const client = new httpqq.Client(endpoint, { keepAlive: true });
  const alice = await client.login(10001, 'demo');
  const bob = await client.login(10002, 'demo');
  const sample = () => {
    global.gc();
    const m = process.memoryUsage();
    return { rss: m.rss / 1048576, heapTotal: m.heapTotal / 1048576, heapUsed: m.heapUsed / 1048576 };
  };
  let warm = null;
  for (let n = 1; n <= rounds; n++) {
    if (mode === 'chat') {
      await alice.send(10002, `round ${n}`);
      await bob.messages();
    } else if (mode === 'sessions') {
      const s = await client.login(10003 + (n % 3), 'demo');
      await s.messages();
      await s.logout();
      await s.close();
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
    if (n === rounds / 10) warm = sample();
  }
  const end = sample();
  console.log(JSON.stringify({ mode, rounds, warm, end, growth: end.rss - warm.rss }));
  await alice.close();
  await bob.close();
  await client.close();
})().catch((e) => { console.error(e); process.exit(1); });
