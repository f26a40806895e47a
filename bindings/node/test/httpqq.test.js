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
  await assert.rejects(alice.send(10002, 'x'.repeat(70000)), httpqq.TooLarge); // refused, not sent
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

// Idle agents hold no thread: libuv's pool (4 threads, shared with every
// fs, dns.lookup and crypto call of the process) stays free for the rest.
test('sixteen idle agents leave the thread pool to the rest of the process', async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint);
  const agents = Array.from({ length: 16 }, (_, n) => client.agent(10001 + (n % 5), 'demo', { pollIntervalMs: 1000 }));
  const consumers = agents.map(async (agent) => {
    for await (const event of agent) void event;
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httpqq-node-'));
  const file = path.join(dir, 'small');
  fs.writeFileSync(file, 'x'.repeat(100));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const started = performance.now();
  await Promise.all(Array.from({ length: 64 }, () => fs.promises.readFile(file)));
  const took = performance.now() - started;
  // Agents that waited on pool threads (250 ms at a time) made this 3.5 s.
  assert.ok(took < 1000, `64 reads of a small file took ${took.toFixed(0)} ms`);
  await Promise.all(agents.map((agent) => agent.close()));
  await Promise.all(consumers);
  fs.rmSync(dir, { recursive: true });
  await client.close();
  await server.close();
});

test('the test controls rehearse what bots meet; every option reaches the agent', async () => {
  const os = require('node:os');
  const path = require('node:path');
  const fs = require('node:fs');
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint, { timeoutMs: 2000 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httpqq-node-'));
  const bob = client.agent(10002, 'demo', {
    pollIntervalMs: 100, backoffInitialMs: 100, backoffMaxMs: 500, backoffFactor: 2, backoffJitter: 0.1,
    throttlePenaltyMs: 300, throttleRetries: 3, sendPace: { count: 50, windowMs: 10000 }, relogin: true,
    stopTimeoutMs: 200, inbox: path.join(dir, 'bob.inbox'),
  });
  // Alice logs in for each look: a restart ends plain sessions.
  const delivered = async (body) => {
    const alice = await client.login(10001, 'demo');
    const texts = (await alice.messages()).map((m) => m.text);
    await alice.close();
    return texts.includes(body);
  };
  await bob.send(10001, 'early'); // right after the start: it waits for the login
  assert.ok(await delivered('early'));
  server.stopListening();
  await new Promise((resolve) => setTimeout(resolve, 300));
  server.restart();
  await bob.send(10001, 'after the restart');
  assert.ok(await delivered('after the restart'));
  assert.equal(server.expireSession(10002), true);
  await bob.send(10001, 'after the expiry');
  assert.ok(await delivered('after the expiry'));
  server.throttle(10002, 500);
  const started = performance.now();
  await bob.send(10001, 'after the throttle');
  assert.ok(performance.now() - started >= 290, 'sent after the penalty');
  assert.ok(await delivered('after the throttle'));
  assert.ok(server.requestCount(10002, { command: 'CLTMSG', result: 3 }) >= 1);
  server.pause();
  setTimeout(() => server.resume(), 300);
  await bob.send(10001, 'after the pause');
  assert.ok(await delivered('after the pause'));
  server.setLatency(0);
  server.dropSessions(false);
  assert.ok(server.passwordChecks() >= 1 && server.connectionsAccepted() >= 1);
  assert.equal(server.changePassword(10005, 'new'), true);
  await bob.close();
  // Retries off: a throttled send fails at once, with what happened.
  const fast = client.agent(10004, 'demo', { throttleRetries: 0, sendPace: false, logoutOnStop: false });
  await fast.send(10001, 'hello');
  server.throttle(10004, 1000);
  await assert.rejects(fast.send(10001, 'too soon'), (err) => err instanceof httpqq.Throttled && err.outcome === 'refused');
  await fast.close();
  // Only the agent that logs out on stop did.
  assert.ok(server.requestCount(10002, { command: 'Logout' }) >= 1);
  assert.equal(server.requestCount(10004, { command: 'Logout' }), 0);
  // Unknown options and settings that make no sense are refused.
  assert.throws(() => client.agent(10003, 'demo', { pollInterval: 100 }), /unknown agent option pollInterval/);
  assert.throws(() => client.agent(10003, 'demo', { sendPace: 5 }), TypeError);
  assert.throws(() => client.agent(10003, 'demo', { backoffFactor: 0.5 }), httpqq.InvalidConfig);
  // A send that finds no login in time: refused as not online.
  const nowhere = new httpqq.Client('127.0.0.1:9', { timeoutMs: 300 });
  const lost = nowhere.agent(10002, 'demo');
  await assert.rejects(lost.send(10001, 'nobody home'), (err) => err instanceof httpqq.NotOnline && err.outcome === 'refused');
  await lost.close();
  await nowhere.close();
  fs.rmSync(dir, { recursive: true });
  await client.close();
  await server.close();
});

test('an inbox loses nothing a closed agent had not handled', async () => {
  const os = require('node:os');
  const path = require('node:path');
  const fs = require('node:fs');
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint);
  const alice = await client.login(10001, 'demo');
  await alice.send(10003, 'one');
  await alice.send(10003, 'two');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httpqq-node-'));
  const inbox = path.join(dir, 'carol.inbox');
  const texts = async (agent, count) => {
    const got = [];
    for await (const event of agent) {
      if (event.message?.kind === httpqq.constants.HTTPQQ_MESSAGE_KIND_TEXT) got.push(event.message.text);
      if (got.length === count) break;
    }
    return got;
  };
  const first = client.agent(10003, 'demo', { inbox });
  assert.deepEqual(await texts(first, 1), ['one']);
  await first.close(); // 'one' in hand, 'two' not taken
  const second = client.agent(10003, 'demo', { inbox });
  assert.deepEqual(await texts(second, 2), ['one', 'two']);
  second.ack();
  await second.close();
  fs.rmSync(dir, { recursive: true });
  await alice.close();
  await client.close();
  await server.close();
});

test('a message too long for a server is refused before it is sent', async () => {
  const server = httpqq.Server.start();
  const client = new httpqq.Client(server.endpoint);
  const alice = await client.login(10001, 'demo');
  await assert.rejects(alice.send(10002, 'x'.repeat(65 * 1024)), (err) =>
    err instanceof httpqq.TooLarge && err.outcome === 'refused' && /send the message in parts/.test(err.message));
  assert.equal(server.requestCount(10001, { command: 'CLTMSG' }), 0);
  await alice.send(10002, 'x'.repeat(60 * 1024)); // what fits is sent
  await alice.close(); await client.close(); await server.close();
});

test('TLS: a round trip with the test server\'s certificate; untrusted, a TLS error with nothing sent', async () => {
  const server = httpqq.Server.start({ tls: true });
  assert.match(server.tlsEndpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(server.caPem, /-----BEGIN CERTIFICATE-----/);
  const client = server.client({ tls: true, keepAlive: true });
  const alice = await client.login(10001, 'demo');
  const bob = await client.login(10002, 'demo');
  await alice.send(10002, 'over TLS');
  assert.deepEqual((await bob.messages()).map((m) => m.text), ['over TLS']);
  await alice.close(); await bob.close(); await client.close();
  const untrusted = new httpqq.Client(server.tlsEndpoint, { timeoutMs: 5000 });
  await assert.rejects(untrusted.login(10001, 'demo'), (err) =>
    err instanceof httpqq.TransportError && err.outcome === 'refused' && /unknown issuer/.test(err.message));
  await untrusted.close();
  assert.throws(() => new httpqq.Client(server.endpoint, { caPem: server.caPem }), httpqq.InvalidConfig);
  const plain = httpqq.Server.start();
  assert.equal(plain.tlsEndpoint, null);
  assert.throws(() => plain.client({ tls: true }), /no TLS listener/);
  await plain.close();
  await server.close();
});

test('process.exit does not wait for calls in flight, also of a closed client\'s session', async () => {
  const { spawn } = require('node:child_process');
  const path = require('node:path');
  // A child that calls process.exit while a login and a closed client's
  // session's fetch wait on a paused server (60 s timeouts; the server
  // drops a silent connection after 10 s): Node waits for its thread pool
  // at exit, so without the exit hook that shuts them down the exit takes
  // 10 s; with it, well under a second.
  const child = `
    const httpqq = require(${JSON.stringify(path.join(__dirname, '..'))});
    (async () => {
      const server = httpqq.Server.start();
      const closed = new httpqq.Client(server.endpoint, { timeoutMs: 60000 });
      const alice = await closed.login(10001, 'demo');
      await closed.close();
      const client = new httpqq.Client(server.endpoint, { timeoutMs: 60000 });
      server.pause();
      alice.messages().finally(() => console.log('returned'));
      client.login(10002, 'demo').finally(() => console.log('returned'));
      setTimeout(() => { console.log('exiting'); process.exit(0); }, 300);
    })();`;
  const started = Date.now();
  const result = await new Promise((resolve) => {
    const proc = spawn(process.execPath, ['-e', child], { env: process.env });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const guard = setTimeout(() => proc.kill('SIGKILL'), 30000);
    proc.on('exit', (code, signal) => { clearTimeout(guard); resolve({ code, signal, out }); });
  });
  const took = Date.now() - started;
  assert.equal(result.code, 0, `${result.signal} ${result.out}`);
  assert.match(result.out, /exiting/);
  assert.doesNotMatch(result.out, /returned/);
  assert.ok(took < 8000, `the exit took ${took} ms`);
});
