'use strict';
// The bindings' common scenario against the in-process reference server:
// two demo accounts; a text with '&', '%26', Chinese and a newline,
// byte-exact both ways; a wrong password failing with the server's reason;
// misuse turned into errors, never a crash; everything freed; and the
// agent's events as an async iterator.

const test = require('node:test');
const assert = require('node:assert/strict');
const httpqq = require('..');

const TEXT = '你好 & 1+1=2 %26\nsecond line';

test('a chat between two demo accounts, byte-exact both ways', async () => {
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint, { timeoutMs: 5000 });
  const alice = await client.login(10001, 'demo');
  const bob = await client.login(10002, 'demo');
  await alice.send(10002, TEXT);
  const got = (await bob.messages()).filter((m) => m.kind === httpqq.constants.HTTPQQ_MESSAGE_KIND_TEXT);
  assert.deepEqual(got.map((m) => [m.sender, m.text]), [[10001, TEXT]]);
  await bob.send(10001, got[0].text);
  const back = (await alice.messages()).filter((m) => m.kind === httpqq.constants.HTTPQQ_MESSAGE_KIND_TEXT);
  assert.equal(back[0].text, TEXT);
  assert.deepEqual(await alice.friends(), [10002]);
  await alice.logout();
  await assert.rejects(alice.messages(), httpqq.NotLoggedIn);
  for (const handle of [alice, bob, client, server]) await handle.close();
});

test('a wrong password fails with the server\'s reason', async () => {
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint);
  await assert.rejects(client.login(10001, 'wrong'), (err) => {
    assert.ok(err instanceof httpqq.LoginFailed && err instanceof httpqq.HttpqqError && err instanceof Error);
    assert.equal(err.reason, '密码错误');
    assert.equal(err.status, httpqq.constants.HTTPQQ_STATUS_LOGIN_FAILED);
    assert.equal(err.outcome, 'refused');
    assert.match(err.message, /密码错误/);
    return true;
  });
  await assert.rejects(client.login(99999, 'x'), httpqq.InvalidUin);
  await client.close();
  await server.close();
});

test('misuse is an error, never a crash', async () => {
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint);
  assert.throws(() => client.login('10001', 'demo'), TypeError);
  assert.throws(() => client.login(-1, 'demo'), TypeError);
  assert.throws(() => client.login(10001, 42), TypeError);
  assert.throws(() => new httpqq.Client('no such:host:99'), httpqq.InvalidConfig);
  const alice = await client.login(10001, 'demo');
  await assert.rejects(alice.send(10002, 'x'.repeat(70000)), httpqq.NoReply);
  await alice.close();
  await alice.close(); // twice: nothing
  await assert.rejects(async () => alice.send(10002, 'hi'), /closed/);
  await client.close();
  assert.throws(() => client.agent(10001, 'demo'), /closed/);
  await server.close();
  assert.throws(() => server.endpoint, /closed/);
});

test('calls do not block the event loop', async () => {
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint);
  const alice = await client.login(10001, 'demo');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await Promise.all(Array.from({ length: 200 }, () => alice.messages()));
  clearInterval(timer);
  assert.ok(ticks > 0, 'the event loop ran while the calls were in flight');
  await alice.close();
  await client.close();
  await server.close();
});

test('an agent\'s events as an async iterator, with sends and a stop', async () => {
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint, { timeoutMs: 5000 });
  const bob = client.agent(10002, 'demo', { pollIntervalMs: 100 });
  const alice = await client.login(10001, 'demo');
  const seen = [];
  for await (const event of bob) {
    seen.push(event.kind);
    if (event.kind === 'online') await alice.send(10002, TEXT);
    if (event.kind === 'message' && event.message.text === TEXT) {
      await bob.send(10001, 'thanks');
      bob.stop();
    }
  }
  assert.equal(seen[0], 'online');
  assert.equal(seen.at(-1), 'stopped');
  assert.ok(seen.includes('message'));
  await assert.rejects(bob.send(10001, 'late'), (err) => err instanceof httpqq.StoppedError && err.outcome === 'refused');
  const wrong = client.agent(10002, 'wrong');
  const events = [];
  for await (const event of wrong) events.push(event);
  assert.equal(events.length, 1);
  assert.ok(events[0].error instanceof httpqq.LoginFailed);
  assert.equal(events[0].error.reason, '密码错误');
  for (const handle of [bob, wrong, alice, client, server]) await handle.close();
});

test('the package is the version of the library it binds', () => {
  assert.equal(require('../package.json').version, httpqq.version);
});
