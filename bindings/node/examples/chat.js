// Two demo accounts chat through a server (`httpqq-server --demo`), then
// the same through a test Server in this process (libhttpqq_testing):
//
//   node examples/chat.js 127.0.0.1:8000
'use strict';
const httpqq = require('httpqq');

async function chat(endpoint) {
  const client = new httpqq.Client(endpoint, { timeoutMs: 5000 });
  const alice = await client.login(10001, 'demo');
  const bob = await client.login(10002, 'demo');
  await alice.send(10002, '你好, Bob');
  for (const m of await bob.messages()) console.log(`Bob got from ${m.sender}: ${m.text}`);
  await alice.logout();
  await bob.logout();
  await client.close();
}

(async () => {
  console.log(`libhttpqq ${httpqq.version}`);
  await chat(process.argv[2] || '127.0.0.1:8000');
  const server = httpqq.Server.start();
  await chat(server.endpoint);
  server.close();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
