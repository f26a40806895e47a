'use strict';
// httpqq for Node.js: libhttpqq through koffi. The declarations are read
// from the flat header libhttpqq installs (httpqq_cdef.h), so this file
// holds no copy of them; it only turns handles into classes, statuses into
// Error subclasses, and blocking calls into Promises (run on koffi's worker
// threads: the event loop never waits for the network).
//
// Where the library is: HTTPQQ_LIB (a path to libhttpqq.so), else the
// system's loader. Where the declarations are: HTTPQQ_CDEF, else
// ../include/httpqq_cdef.h beside the library, else /usr/local/include and
// /usr/include.

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

function locate() {
  const libPath = process.env.HTTPQQ_LIB || 'libhttpqq.so';
  const candidates = [
    process.env.HTTPQQ_CDEF,
    process.env.HTTPQQ_LIB && path.join(path.dirname(process.env.HTTPQQ_LIB), '..', 'include', 'httpqq_cdef.h'),
    '/usr/local/include/httpqq_cdef.h',
    '/usr/include/httpqq_cdef.h',
  ].filter(Boolean);
  const cdef = candidates.find((candidate) => fs.existsSync(candidate));
  if (!cdef) {
    throw new Error(`httpqq: cannot find httpqq_cdef.h (set HTTPQQ_CDEF); looked in ${candidates.join(', ')}`);
  }
  return { libPath, declarations: fs.readFileSync(cdef, 'utf8') };
}

const { libPath, declarations } = locate();
const lib = koffi.load(libPath);

/** Every HTTPQQ_ constant of the header, by name. */
const constants = {};
for (const [, name, value] of declarations.matchAll(/^\s*(HTTPQQ_\w+) = (-?\d+),/gm)) {
  constants[name] = Number(value);
}

// Types: opaque handles, the enums (int32_t), the callbacks; then every
// function. Out-parameters are the ones named *_out (and a length).
for (const [, name] of declarations.matchAll(/typedef struct (\w+) \1;/g)) koffi.opaque(name);
for (const [, name] of declarations.matchAll(/^\} (\w+);/gm)) koffi.alias(name, 'int32_t');
for (const [, result, name, params] of declarations.matchAll(/typedef (\w+) \(\*(\w+)\)\(([^)]*)\);/g)) {
  koffi.pointer(name, koffi.proto(`${result} ${name}_proto(${params.replace(/\s+/g, ' ')})`));
}
const C = {};
for (const raw of declarations.split(';')) {
  const declaration = raw.replace(/\s+/g, ' ').trim();
  const match = /^[\w\s*]+?\b(httpqq_\w+)\((.*)\)$/.exec(declaration);
  if (!match || declaration.startsWith('typedef')) continue;
  const marked = declaration.replace(/([(,] ?)([^,()]*\*\s*\w+_out|size_t \*len)(?=[,)])/g, '$1_Out_ $2');
  C[match[1]] = lib.func(marked);
}
// A message's text may hold a NUL: read it by its length, as bytes.
C.httpqq_message_text = lib.func('const uint8_t *httpqq_message_text(const httpqq_message *message, _Out_ size_t *len)');

/** A failure of libhttpqq: `status` (an httpqq_status), `statusName`, the
 * server's `reason` when it gave one, `retryAfterMs` after RES=3, and
 * `outcome`: 'refused' (certainly not carried out) or 'unknown' (sent, no
 * reply: it may have been). */
class HttpqqError extends Error {
  constructor(status, message, { reason = null, retryAfterMs = 0, outcome = 'refused' } = {}) {
    super(message);
    this.name = this.constructor.name;
    this.status = status;
    this.statusName = C.httpqq_status_name(status);
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
    this.outcome = outcome;
  }
}
class NoReply extends HttpqqError {}
class NotLoggedIn extends HttpqqError {}
class Throttled extends HttpqqError {}
class InvalidUin extends HttpqqError {}
class LoginFailed extends HttpqqError {}
class ProtocolError extends HttpqqError {}
class TransportError extends HttpqqError {}
class TimeoutError extends HttpqqError {}
class InvalidConfig extends HttpqqError {}
class InvalidArgument extends HttpqqError {}
class ServerError extends HttpqqError {}
class InternalError extends HttpqqError {}
class StoppedError extends HttpqqError {}

const errorClasses = {
  [constants.HTTPQQ_STATUS_NO_REPLY]: NoReply,
  [constants.HTTPQQ_STATUS_NOT_LOGGED_IN]: NotLoggedIn,
  [constants.HTTPQQ_STATUS_THROTTLED]: Throttled,
  [constants.HTTPQQ_STATUS_INVALID_UIN]: InvalidUin,
  [constants.HTTPQQ_STATUS_LOGIN_FAILED]: LoginFailed,
  [constants.HTTPQQ_STATUS_PROTOCOL]: ProtocolError,
  [constants.HTTPQQ_STATUS_TRANSPORT]: TransportError,
  [constants.HTTPQQ_STATUS_TIMEOUT]: TimeoutError,
  [constants.HTTPQQ_STATUS_INVALID_CONFIG]: InvalidConfig,
  [constants.HTTPQQ_STATUS_INVALID_ARGUMENT]: InvalidArgument,
  [constants.HTTPQQ_STATUS_SERVER]: ServerError,
  [constants.HTTPQQ_STATUS_INTERNAL]: InternalError,
  [constants.HTTPQQ_STATUS_STOPPED]: StoppedError,
};

const OUTCOMES = ['accepted', 'refused', 'unknown'];

/** The exception for what an error object holds. */
function failure(error) {
  const status = C.httpqq_error_status(error);
  const Class = errorClasses[status] || HttpqqError;
  return new Class(status, C.httpqq_error_message(error), {
    reason: C.httpqq_error_reason(error),
    retryAfterMs: Number(C.httpqq_error_retry_after_ms(error)),
    outcome: OUTCOMES[C.httpqq_error_outcome(error)] || 'unknown',
  });
}

/** Calls a fallible function now, with an error object of its own. */
function call(name, ...args) {
  const error = C.httpqq_error_new();
  try {
    if (C[name](...args, error) !== 0) throw failure(error);
  } finally {
    C.httpqq_error_free(error);
  }
}

/** Calls a fallible function on a worker thread; a Promise. */
function callAsync(name, ...args) {
  return new Promise((resolve, reject) => {
    const error = C.httpqq_error_new();
    C[name].async(...args, error, (err, status) => {
      try {
        if (err) reject(err);
        else if (status !== 0) reject(failure(error));
        else resolve();
      } finally {
        C.httpqq_error_free(error);
      }
    });
  });
}

/** A UIN: an integer from 0 below 2**53, or a bigint below 2**64. */
function uin(value, what = 'uin') {
  if (typeof value === 'bigint' && value >= 0n && value < 1n << 64n) return value;
  if (Number.isSafeInteger(value) && value >= 0) return value;
  throw new TypeError(`httpqq: ${what} must be a QQ number (a non-negative integer), not ${typeof value === 'string' ? JSON.stringify(value) : value}`);
}

function text(value, what) {
  if (typeof value !== 'string') throw new TypeError(`httpqq: ${what} must be a string, not ${typeof value}`);
  return value;
}

/** What a message holds, read while it is alive. */
function messageOf(message) {
  const length = [0];
  const pointer = C.httpqq_message_text(message, length);
  const bytes = koffi.decode(pointer, koffi.array('uint8_t', Number(length[0])));
  const status = C.httpqq_message_status(message);
  return {
    kind: C.httpqq_message_get_kind(message),
    sender: Number(C.httpqq_message_sender(message)),
    text: Buffer.from(bytes).toString('utf8'),
    status: status === 0 ? null : status,
  };
}

/** Frees handles that were never closed. */
const finalizer = new FinalizationRegistry(({ free, pointer }) => C[free](pointer));

/** A libhttpqq handle: closed once, never while a call uses it, and freed
 * by the garbage collector if nobody closes it. */
class Handle {
  #pointer;
  #free;
  #busy = 0;
  #closing = null;
  #what;

  constructor(pointer, free, what) {
    this.#pointer = pointer;
    this.#free = free;
    this.#what = what;
    finalizer.register(this, { free, pointer }, this);
  }

  /** The pointer, for a call now. */
  get pointer() {
    if (this.#pointer === null || this.#closing) throw new Error(`httpqq: the ${this.#what} is closed`);
    return this.#pointer;
  }

  /** Runs an async call with the pointer held (not freed meanwhile). */
  async use(work) {
    const pointer = this.pointer;
    this.#busy++;
    try {
      return await work(pointer);
    } finally {
      this.#busy--;
      if (this.#busy === 0 && this.#closing) this.#closing();
    }
  }

  /** Frees the handle once the calls using it have ended. */
  async close() {
    if (this.#pointer === null) return;
    if (!this.#closing) {
      const done = new Promise((resolve) => { this.#closing = resolve; });
      if (this.#busy === 0) this.#closing();
      await done;
      finalizer.unregister(this);
      const pointer = this.#pointer;
      this.#pointer = null;
      if (this.#free === 'httpqq_agent_free') {
        // It logs out first: on a worker thread.
        await new Promise((resolve) => C.httpqq_agent_free.async(pointer, () => resolve()));
      } else {
        C[this.#free](pointer);
      }
    }
  }
}

/** The reference server, in this process (for tests). */
class Server {
  #handle;

  /** Starts it: `listen` ("127.0.0.1:0" by default: a free port) and an
   * `accounts` file (TOML; the demo accounts 10001-10005, password "demo",
   * by default). */
  static start({ listen = null, accounts = null } = {}) {
    const out = [null];
    call('httpqq_server_start', listen, accounts, out);
    const server = new Server();
    server.#handle = new Handle(out[0], 'httpqq_server_free', 'server');
    return server;
  }

  /** "host:port". */
  get endpoint() {
    return C.httpqq_server_endpoint(this.#handle.pointer);
  }

  /** Stops it. */
  close() {
    return this.#handle.close();
  }
}

/** A client of one server. */
class Client {
  #handle;

  constructor(endpoint, { timeoutMs = 30000, connectTimeoutMs = 10000, keepAlive = false } = {}) {
    const builder = C.httpqq_client_builder_new();
    try {
      call('httpqq_client_builder_set_endpoint', builder, text(endpoint, 'endpoint'));
      call('httpqq_client_builder_set_timeout_ms', builder, timeoutMs);
      call('httpqq_client_builder_set_connect_timeout_ms', builder, connectTimeoutMs);
      call('httpqq_client_builder_set_keep_alive', builder, Boolean(keepAlive));
      const out = [null];
      call('httpqq_client_builder_build', builder, out);
      this.#handle = new Handle(out[0], 'httpqq_client_free', 'client');
    } finally {
      C.httpqq_client_builder_free(builder);
    }
  }

  /** Logs in; a Promise of the Session. Rejects with LoginFailed (its
   * `reason` is the server's) for a wrong password. */
  login(who, password) {
    const number = uin(who);
    text(password, 'password');
    return this.#handle.use(async (client) => {
      const out = [null];
      await callAsync('httpqq_client_login', client, number, password, out);
      return new Session(out[0], number);
    });
  }

  /** An agent: a logged-in account that stays up (see Agent). */
  agent(who, password, { pollIntervalMs = 5000, backoffMs = [1000, 30000], throttlePenaltyMs = null } = {}) {
    const number = uin(who);
    text(password, 'password');
    const options = C.httpqq_agent_options_new();
    try {
      call('httpqq_agent_options_set_poll_interval_ms', options, pollIntervalMs);
      call('httpqq_agent_options_set_backoff_ms', options, backoffMs[0], backoffMs[1]);
      if (throttlePenaltyMs !== null) call('httpqq_agent_options_set_throttle_penalty_ms', options, throttlePenaltyMs);
      const out = [null];
      call('httpqq_agent_start', this.#handle.pointer, number, password, options, out);
      return new Agent(out[0], number);
    } finally {
      C.httpqq_agent_options_free(options);
    }
  }

  close() {
    return this.#handle.close();
  }
}

/** A logged-in account: its commands, as Promises. */
class Session {
  #handle;

  constructor(pointer, number) {
    this.#handle = new Handle(pointer, 'httpqq_session_free', 'session');
    this.uin = number;
  }

  /** Sends a text message. */
  send(to, message) {
    const target = uin(to, 'to');
    text(message, 'message');
    return this.#handle.use((session) => callAsync('httpqq_session_send_message', session, target, message));
  }

  /** The pending messages, oldest first. */
  messages() {
    return this.#handle.use(async (session) => {
      const out = [null];
      await callAsync('httpqq_session_fetch_messages', session, out);
      const list = out[0];
      try {
        const count = Number(C.httpqq_message_list_len(list));
        return Array.from({ length: count }, (_, n) => messageOf(C.httpqq_message_list_get(list, n)));
      } finally {
        C.httpqq_message_list_free(list);
      }
    });
  }

  /** The friends' UINs. */
  friends() {
    return this.#handle.use(async (session) => {
      const out = [null];
      await callAsync('httpqq_session_friends', session, 0, out);
      const list = out[0];
      try {
        const count = Number(C.httpqq_friend_list_len(list));
        return Array.from({ length: count }, (_, n) => Number(C.httpqq_friend_list_get(list, n)));
      } finally {
        C.httpqq_friend_list_free(list);
      }
    });
  }

  /** Logs out (the handle still needs close()). */
  logout() {
    return this.#handle.use((session) => callAsync('httpqq_session_logout', session));
  }

  close() {
    return this.#handle.close();
  }
}

const EVENT_KINDS = {
  [constants.HTTPQQ_EVENT_KIND_ONLINE]: 'online',
  [constants.HTTPQQ_EVENT_KIND_RECONNECTING]: 'reconnecting',
  [constants.HTTPQQ_EVENT_KIND_THROTTLED]: 'throttled',
  [constants.HTTPQQ_EVENT_KIND_SESSION_RENEWED]: 'session renewed',
  [constants.HTTPQQ_EVENT_KIND_MESSAGE]: 'message',
  [constants.HTTPQQ_EVENT_KIND_STOPPED]: 'stopped',
};

function eventOf(event) {
  const message = C.httpqq_event_message(event);
  const status = C.httpqq_event_error_status(event);
  return {
    kind: EVENT_KINDS[C.httpqq_event_get_kind(event)] || 'other',
    uin: Number(C.httpqq_event_uin(event)),
    message: message ? messageOf(message) : null,
    attempt: C.httpqq_event_attempt(event),
    delayMs: Number(C.httpqq_event_delay_ms(event)),
    error: status === 0 ? null : new (errorClasses[status] || HttpqqError)(status, C.httpqq_event_error_message(event), {
      reason: C.httpqq_event_reason(event),
    }),
  };
}

/** A logged-in account that stays up: it polls, rides out failures with
 * backoff, waits out penalties, logs in again, and reports it all as
 * events: `for await (const event of agent)` (it ends after the 'stopped'
 * event). Waiting for events holds no thread of the event loop. */
class Agent {
  #handle;

  constructor(pointer, number) {
    this.#handle = new Handle(pointer, 'httpqq_agent_free', 'agent');
    this.uin = number;
  }

  /** The next event, or null if none came within `timeoutMs`; null also
   * once the last event was taken. */
  nextEvent(timeoutMs = 250) {
    return this.#handle.use(async (agent) => {
      const out = [null];
      try {
        await callAsync('httpqq_agent_next_event', agent, timeoutMs, out);
      } catch (err) {
        if (err instanceof StoppedError) return undefined;
        throw err;
      }
      if (!out[0]) return null;
      try {
        return eventOf(out[0]);
      } finally {
        C.httpqq_event_free(out[0]);
      }
    });
  }

  async *[Symbol.asyncIterator]() {
    for (;;) {
      const event = await this.nextEvent(250);
      if (event === undefined) return;
      if (event === null) continue;
      yield event;
      if (event.kind === 'stopped') return;
    }
  }

  /** Sends a text message; rejects with the error, whose `outcome` says
   * 'refused' or 'unknown' (sent, no reply). Never resent by itself. */
  send(to, message) {
    const target = uin(to, 'to');
    text(message, 'message');
    return this.#handle.use((agent) => callAsync('httpqq_agent_send', agent, target, message, [0]));
  }

  /** Stops it; returns at once. Its events end with 'stopped'. */
  stop() {
    C.httpqq_agent_stop(this.#handle.pointer);
  }

  /** Stops it, waits until it finished (it logs out), and frees it. */
  close() {
    try {
      C.httpqq_agent_stop(this.#handle.pointer);
    } catch {
      // closed already
    }
    return this.#handle.close();
  }
}

module.exports = {
  Server,
  Client,
  Session,
  Agent,
  HttpqqError,
  NoReply,
  NotLoggedIn,
  Throttled,
  InvalidUin,
  LoginFailed,
  ProtocolError,
  TransportError,
  TimeoutError,
  InvalidConfig,
  InvalidArgument,
  ServerError,
  InternalError,
  StoppedError,
  constants,
  version: C.httpqq_version(),
};
