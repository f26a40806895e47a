'use strict';
// httpqq for Node.js: libhttpqq through koffi. The declarations are read
// from the flat header libhttpqq installs (httpqq_cdef.h), so this file
// holds no copy of them; it only turns handles into classes, statuses into
// Error subclasses, and blocking calls into Promises (run on koffi's worker
// threads: the event loop never waits for the network).
//
// Where the libraries are: HTTPQQ_LIB (a path to libhttpqq), else the
// platform package npm installed beside this one (`@httpqq/<os>-<cpu>`,
// its lib/ folder), else the system's loader (an install, the .deb).
// libhttpqq_testing (the test Server, loaded only when one starts):
// HTTPQQ_TESTING_LIB, else beside libhttpqq. The declarations: this
// package's include/ (copied there when it is packed), HTTPQQ_CDEF,
// ../include beside the library, /usr/local/include, /usr/include.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const koffi = require('koffi');

const version = require('./package.json').version;
const abi = version.startsWith('0.') ? version.split('.').slice(0, 2).join('.') : version.split('.')[0];
/** The file names of the two libraries on this platform. */
const fileNames = {
  linux: (name) => `lib${name}.so.${abi}`,
  darwin: (name) => `lib${name}.${abi}.dylib`,
  win32: (name) => `${name}.dll`,
}[process.platform] || ((name) => `lib${name}.so.${abi}`);

/** The lib/ folder of the platform package, if npm installed one. */
function platformPackage() {
  const name = `@httpqq/${process.platform}-${process.arch}`;
  try {
    return path.join(path.dirname(require.resolve(`${name}/package.json`)), 'lib');
  } catch {
    return null;
  }
}

function libraryPath(name, override) {
  if (override) return override;
  if (process.env.HTTPQQ_LIB) return path.join(path.dirname(process.env.HTTPQQ_LIB), fileNames(name));
  const packaged = platformPackage();
  if (packaged) return path.join(packaged, fileNames(name));
  return fileNames(name);
}

function declarationsOf(file, override, libPath) {
  const candidates = [
    override,
    path.join(__dirname, 'include', file),
    path.isAbsolute(libPath) && path.join(path.dirname(libPath), '..', 'include', file),
    path.join('/usr/local/include', file),
    path.join('/usr/include', file),
  ].filter(Boolean);
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new Error(`httpqq: cannot find ${file} (set HTTPQQ_CDEF); looked in ${candidates.join(', ')}`);
  }
  return fs.readFileSync(found, 'utf8');
}

/** Declares the types and functions of flat C declarations from `library`
 * into `into`; returns the HTTPQQ_ constants they define. */
function declare(library, declarations, into) {
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
  for (const raw of declarations.split(';')) {
    const declaration = raw.replace(/\s+/g, ' ').trim();
    const match = /^[\w\s*]+?\b(httpqq_\w+)\((.*)\)$/.exec(declaration);
    if (!match || declaration.startsWith('typedef')) continue;
    const marked = declaration.replace(/([(,] ?)([^,()]*\*\s*\w+_out|size_t \*len)(?=[,)])/g, '$1_Out_ $2');
    into[match[1]] = library.func(marked);
  }
  return constants;
}

const libPath = libraryPath('httpqq', process.env.HTTPQQ_LIB);
let lib;
try {
  lib = koffi.load(libPath);
} catch (err) {
  throw new Error(
    `httpqq: cannot load libhttpqq from ${libPath} (${err.message}); install the platform package ` +
      `@httpqq/${process.platform}-${process.arch}, or set HTTPQQ_LIB to the library's path`,
  );
}
const C = {};
const constants = declare(lib, declarationsOf('httpqq_cdef.h', process.env.HTTPQQ_CDEF, libPath), C);

/** Loads libhttpqq_testing (once) and declares its functions into C. */
let testingLoaded = false;
function loadTesting() {
  if (testingLoaded) return;
  const testingPath = libraryPath('httpqq_testing', process.env.HTTPQQ_TESTING_LIB);
  const testing = koffi.load(testingPath);
  declare(testing, declarationsOf('httpqq_testing_cdef.h', process.env.HTTPQQ_TESTING_CDEF, testingPath), C);
  testingLoaded = true;
}

// A message's text may hold a NUL: read it by its length, as bytes.
C.httpqq_message_text = lib.func('const uint8_t *httpqq_message_text(const httpqq_message *message, _Out_ size_t *len)');

// An agent announces waiting events on a pipe that the event loop watches
// (libuv, through a net.Socket): libc's pipe and fcntl, found through
// libhttpqq, which links libc.
const libc = {
  pipe: lib.func('int pipe(int *fds)'),
  close: lib.func('int close(int fd)'),
  fcntl: lib.func('int fcntl(int fd, int command, ...)'),
};
const F_SETFD = 2;
const FD_CLOEXEC = 1;

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
class Cancelled extends HttpqqError {}
class NotOnline extends HttpqqError {}
class TooLarge extends HttpqqError {}

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
  [constants.HTTPQQ_STATUS_CANCELLED]: Cancelled,
  [constants.HTTPQQ_STATUS_NOT_ONLINE]: NotOnline,
  [constants.HTTPQQ_STATUS_TOO_LARGE]: TooLarge,
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
  // A view, then one copy into the string (koffi.array would register a
  // type per call that is never freed: docs/DECISIONS.md, row 140).
  const size = Number(length[0]);
  const text = size === 0 ? '' : Buffer.from(koffi.view(pointer, size)).toString('utf8');
  const status = C.httpqq_message_status(message);
  return {
    kind: C.httpqq_message_get_kind(message),
    sender: Number(C.httpqq_message_sender(message)),
    text,
    status: status === 0 ? null : status,
  };
}

/** Frees handles that were never closed. */
const finalizer = new FinalizationRegistry(({ free, pointer }) => C[free](pointer));

/** What to shut down when the process exits: the clients and sessions not
 * closed yet (weakly held). process.exit() waits for libuv's thread pool,
 * where calls run: shut down, a call in flight ends at once (it fails
 * with Cancelled) instead of holding the exit up to its timeout. */
const shutDownAtExit = new Set();
process.on('exit', () => {
  for (const ref of shutDownAtExit) ref.deref()?.shutdown();
});

/** A libhttpqq handle: closed once, never while a call uses it, and freed
 * by the garbage collector if nobody closes it. */
class Handle {
  #pointer;
  #free;
  #busy = 0;
  #closing = null;
  #what;

  #shutdown;
  #atExit = null;

  /** `shutdown`: the function that ends its calls in flight (clients and
   * sessions), called when the process exits. */
  constructor(pointer, free, what, shutdown = null) {
    this.#pointer = pointer;
    this.#free = free;
    this.#what = what;
    this.#shutdown = shutdown;
    finalizer.register(this, { free, pointer }, this);
    if (shutdown) {
      this.#atExit = new WeakRef(this);
      shutDownAtExit.add(this.#atExit);
    }
  }

  /** Ends its calls in flight and refuses later ones (at exit). */
  shutdown() {
    if (this.#pointer !== null) C[this.#shutdown](this.#pointer);
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
      shutDownAtExit.delete(this.#atExit);
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
  static start({ listen = null, accounts = null, tls = false } = {}) {
    loadTesting();
    const out = [null];
    call(tls ? 'httpqq_server_start_tls' : 'httpqq_server_start', listen, accounts, out);
    const server = new Server();
    server.#handle = new Handle(out[0], 'httpqq_server_free', 'server');
    return server;
  }

  /** "host:port". */
  get endpoint() {
    return C.httpqq_server_endpoint(this.#handle.pointer);
  }

  /** "https://127.0.0.1:port" of its TLS listener (started with
   * `tls: true`), else null. */
  get tlsEndpoint() {
    return C.httpqq_server_tls_endpoint(this.#handle.pointer);
  }

  /** Its TLS certificate (PEM), for a client's `caPem`, else null. */
  get caPem() {
    return C.httpqq_server_tls_ca_pem(this.#handle.pointer);
  }

  /** A client of it; with `tls: true`, of its TLS listener, trusting its
   * certificate. */
  client({ tls = false, ...options } = {}) {
    if (!tls) return new Client(this.endpoint, options);
    if (this.tlsEndpoint === null) throw new Error('httpqq: this server has no TLS listener: start it with { tls: true }');
    return new Client(this.tlsEndpoint, { ...options, caPem: this.caPem });
  }

  // The test controls: rehearse what a bot meets in the field.

  /** Ends `who`'s session as its idle timeout would; whether it had one. */
  expireSession(who) {
    return C.httpqq_server_expire_session(this.#handle.pointer, uin(who));
  }

  /** Answers every request of `who` with RES=3 for `durationMs`. */
  throttle(who, durationMs) {
    C.httpqq_server_throttle(this.#handle.pointer, uin(who), millis(durationMs, 'durationMs'));
  }

  /** Delays every reply by `latencyMs` (0: none). */
  setLatency(latencyMs) {
    C.httpqq_server_set_latency_ms(this.#handle.pointer, millis(latencyMs, 'latencyMs'));
  }

  /** Accepts connections but answers nothing until resume(). */
  pause() {
    C.httpqq_server_pause(this.#handle.pointer);
  }

  resume() {
    C.httpqq_server_resume(this.#handle.pointer);
  }

  /** Closes the listening socket (connections are refused), keeping the
   * accounts and their state, until restart() listens again. */
  stopListening() {
    C.httpqq_server_stop_listening(this.#handle.pointer);
  }

  restart() {
    call('httpqq_server_restart', this.#handle.pointer);
  }

  /** Changes `who`'s password (its session ends); whether the account exists. */
  changePassword(who, password) {
    return C.httpqq_server_change_password(this.#handle.pointer, uin(who), text(password, 'password'));
  }

  /** While on, ends every session right after its login (a NAT that
   * changes the client's address). */
  dropSessions(on) {
    C.httpqq_server_drop_sessions(this.#handle.pointer, Boolean(on));
  }

  /** Passwords checked since the start. */
  passwordChecks() {
    return Number(C.httpqq_server_password_checks(this.#handle.pointer));
  }

  /** Connections accepted since the start. */
  connectionsAccepted() {
    return Number(C.httpqq_server_connections_accepted(this.#handle.pointer));
  }

  /** Requests of `who` answered: of `command` only (its wire name, e.g.
   * "CLTMSG") and with `result` only ('null' for the NULL), when given. */
  requestCount(who, { command = null, result = null } = {}) {
    const res = result === null ? -1 : result === 'null' ? -2 : result;
    if (!Number.isInteger(res)) throw new TypeError(`httpqq: result must be an integer or 'null', not ${result}`);
    return Number(C.httpqq_server_request_count(this.#handle.pointer, uin(who), command === null ? null : text(command, 'command'), res));
  }

  /** Stops it. */
  close() {
    return this.#handle.close();
  }
}

/** A duration in milliseconds: a non-negative integer. */
function millis(value, what) {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`httpqq: ${what} must be a whole number of milliseconds, not ${value}`);
  }
  return value;
}

function number(value, what) {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`httpqq: ${what} must be a number, not ${value}`);
  return value;
}

/** The agent options: each one's setter. Durations in milliseconds; what
 * is left out is the library's default (see bindings/README.md). */
const AGENT_OPTIONS = {
  pollIntervalMs: (o, v) => call('httpqq_agent_options_set_poll_interval_ms', o, millis(v, 'pollIntervalMs')),
  backoffInitialMs: (o, v) => call('httpqq_agent_options_set_backoff_initial_ms', o, millis(v, 'backoffInitialMs')),
  backoffMaxMs: (o, v) => call('httpqq_agent_options_set_backoff_max_ms', o, millis(v, 'backoffMaxMs')),
  backoffFactor: (o, v) => call('httpqq_agent_options_set_backoff_factor', o, number(v, 'backoffFactor')),
  backoffJitter: (o, v) => call('httpqq_agent_options_set_backoff_jitter', o, number(v, 'backoffJitter')),
  throttlePenaltyMs: (o, v) => call('httpqq_agent_options_set_throttle_penalty_ms', o, millis(v, 'throttlePenaltyMs')),
  throttleRetries: (o, v) => call('httpqq_agent_options_set_throttle_retries', o, millis(v, 'throttleRetries')),
  sendPace: (o, v) => {
    if (v === false) return call('httpqq_agent_options_set_send_pace', o, 0, 0);
    if (typeof v !== 'object' || v === null) throw new TypeError('httpqq: sendPace must be { count, windowMs } or false');
    return call('httpqq_agent_options_set_send_pace', o, millis(v.count, 'sendPace.count'), millis(v.windowMs, 'sendPace.windowMs'));
  },
  relogin: (o, v) => call('httpqq_agent_options_set_relogin', o, Boolean(v)),
  logoutOnStop: (o, v) => call('httpqq_agent_options_set_logout_on_stop', o, Boolean(v)),
  stopTimeoutMs: (o, v) => call('httpqq_agent_options_set_stop_timeout_ms', o, millis(v, 'stopTimeoutMs')),
  inbox: (o, v) => call('httpqq_agent_options_set_inbox', o, text(v, 'inbox')),
};

/** A client of one server. */
class Client {
  #handle;

  constructor(endpoint, {
    timeoutMs = 30000, connectTimeoutMs = 10000, keepAlive = false, tls = null, caFile = null, caPem = null,
  } = {}) {
    const builder = C.httpqq_client_builder_new();
    try {
      call('httpqq_client_builder_set_endpoint', builder, text(endpoint, 'endpoint'));
      call('httpqq_client_builder_set_timeout_ms', builder, timeoutMs);
      call('httpqq_client_builder_set_connect_timeout_ms', builder, connectTimeoutMs);
      call('httpqq_client_builder_set_keep_alive', builder, Boolean(keepAlive));
      if (tls !== null) call('httpqq_client_builder_set_tls', builder, Boolean(tls));
      if (caFile !== null) call('httpqq_client_builder_set_ca_file', builder, text(caFile, 'caFile'));
      if (caPem !== null) call('httpqq_client_builder_set_ca_pem', builder, text(caPem, 'caPem'));
      const out = [null];
      call('httpqq_client_builder_build', builder, out);
      this.#handle = new Handle(out[0], 'httpqq_client_free', 'client', 'httpqq_client_shutdown');
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

  /** An agent: a logged-in account that stays up (see Agent). `options`
   * (see AGENT_OPTIONS): an unknown name is a TypeError. */
  agent(who, password, options = {}) {
    const number = uin(who);
    text(password, 'password');
    const settings = C.httpqq_agent_options_new();
    const fds = new Int32Array([-1, -1]);
    try {
      for (const [name, value] of Object.entries(options)) {
        const set = AGENT_OPTIONS[name];
        if (!set) throw new TypeError(`httpqq: unknown agent option ${name} (known: ${Object.keys(AGENT_OPTIONS).join(', ')})`);
        set(settings, value);
      }
      if (libc.pipe(fds) !== 0) throw new Error("httpqq: cannot make the agent's pipe");
      for (const fd of fds) libc.fcntl(fd, F_SETFD, 'int', FD_CLOEXEC);
      call('httpqq_agent_options_set_event_fd', settings, fds[1]);
      const out = [null];
      call('httpqq_agent_start', this.#handle.pointer, number, password, settings, out);
      return new Agent(out[0], number, fds);
    } catch (err) {
      for (const fd of fds) if (fd >= 0) libc.close(fd);
      throw err;
    } finally {
      C.httpqq_agent_options_free(settings);
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
    this.#handle = new Handle(pointer, 'httpqq_session_free', 'session', 'httpqq_session_shutdown');
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
      outcome: OUTCOMES[C.httpqq_event_outcome(event)] || 'unknown',
    }),
  };
}

function sentError(sent) {
  const status = C.httpqq_sent_status(sent);
  if (status === 0) return null;
  return new (errorClasses[status] || HttpqqError)(status, C.httpqq_sent_error_message(sent), {
    retryAfterMs: Number(C.httpqq_sent_retry_after_ms(sent)),
    outcome: OUTCOMES[C.httpqq_sent_outcome(sent)] || 'unknown',
  });
}

/** Frees an agent nobody closed: the library first (it logs out), then the
 * pipe it announces on. */
const agentFinalizer = new FinalizationRegistry(({ pointer, socket, writeFd }) => {
  C.httpqq_agent_free(pointer);
  socket.destroy();
  libc.close(writeFd);
});

/** A logged-in account that stays up: it polls, rides out failures with
 * backoff, waits out penalties, logs in again, and reports it all as
 * events: `for await (const event of agent)` (it ends after the 'stopped'
 * event). Nothing waits in a thread: the agent announces its events and
 * the results of its sends on a pipe the event loop watches. */
class Agent {
  #pointer;
  #socket;
  #writeFd;
  #closed = null;
  #finished = false;
  /** Callers of nextEvent() waiting, oldest first. */
  #waiting = [];
  /** send() calls waiting for their result, by send id. */
  #sending = new Map();

  constructor(pointer, number, fds) {
    this.#pointer = pointer;
    this.uin = number;
    this.#writeFd = fds[1];
    // The read end, watched by libuv; the listener holds the agent weakly,
    // so an agent nobody closed can still be collected (and freed).
    this.#socket = new net.Socket({ fd: fds[0], readable: true, writable: false });
    const agent = new WeakRef(this);
    this.#socket.on('data', () => agent.deref()?.#pump());
    this.#socket.on('error', () => {});
    this.#socket.unref();
    agentFinalizer.register(this, { pointer, socket: this.#socket, writeFd: this.#writeFd }, this);
  }

  get #live() {
    if (this.#closed) throw new Error('httpqq: the agent is closed');
    return this.#pointer;
  }

  /** The process stays up while something waits on the agent. */
  #watch() {
    if (this.#waiting.length > 0 || this.#sending.size > 0) this.#socket.ref();
    else this.#socket.unref();
  }

  /** The next event without waiting: an event, null, or undefined after
   * the last one. */
  #take() {
    if (this.#finished) return undefined;
    const out = [null];
    const error = C.httpqq_error_new();
    try {
      const status = C.httpqq_agent_next_event(this.#live, 0, out, error);
      if (status === constants.HTTPQQ_STATUS_STOPPED) {
        this.#finished = true;
        return undefined;
      }
      if (status !== 0) throw failure(error);
    } finally {
      C.httpqq_error_free(error);
    }
    if (!out[0]) return null;
    try {
      const event = eventOf(out[0]);
      if (event.kind === 'stopped') this.#finished = true;
      return event;
    } finally {
      C.httpqq_event_free(out[0]);
    }
  }

  /** What the pipe announced: the results of sends, then events for the
   * callers waiting (events nobody waits for stay in the library, so that
   * an inbox forgets a message only once it was handled). */
  #pump() {
    if (this.#closed) return;
    for (;;) {
      const out = [null];
      call('httpqq_agent_take_sent', this.#pointer, out);
      if (!out[0]) break;
      try {
        const id = Number(C.httpqq_sent_id(out[0]));
        const waiter = this.#sending.get(id);
        this.#sending.delete(id);
        const error = sentError(out[0]);
        if (waiter) error ? waiter.reject(error) : waiter.resolve();
      } finally {
        C.httpqq_sent_free(out[0]);
      }
    }
    while (this.#waiting.length > 0) {
      const event = this.#take();
      if (event === null) break;
      this.#waiting.shift().settle(event);
    }
    this.#watch();
  }

  /** The next event, or null if none came within `timeoutMs` (Infinity:
   * as long as it takes; 0: only look); undefined once the last one was
   * taken. Taking an event says the message taken before was handled
   * (see the inbox option). */
  nextEvent(timeoutMs = Infinity) {
    return new Promise((resolve, reject) => {
      let event;
      try {
        event = this.#take();
      } catch (err) {
        reject(err);
        return;
      }
      if (event !== null || timeoutMs <= 0) {
        resolve(event);
        return;
      }
      const waiter = {
        settle: (value) => {
          if (waiter.timer) clearTimeout(waiter.timer);
          resolve(value);
        },
      };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          this.#watch();
          resolve(null);
        }, timeoutMs);
      }
      this.#waiting.push(waiter);
      this.#watch();
    });
  }

  async *[Symbol.asyncIterator]() {
    for (;;) {
      const event = await this.nextEvent();
      if (event === undefined || event === null) return;
      yield event;
      if (event.kind === 'stopped') return;
    }
  }

  /** Says the message taken last was handled (with an inbox it is
   * forgotten; taking the next event does this too). */
  ack() {
    C.httpqq_agent_ack(this.#live);
  }

  /** Sends a text message (paced, waiting out a penalty or the login);
   * rejects with the error, whose `outcome` says 'refused' or 'unknown'
   * (sent, no reply). Never resent by itself. No thread waits meanwhile. */
  send(to, message) {
    const target = uin(to, 'to');
    text(message, 'message');
    const id = [0];
    call('httpqq_agent_start_send', this.#live, target, message, id);
    return new Promise((resolve, reject) => {
      this.#sending.set(Number(id[0]), { resolve, reject });
      this.#watch();
    });
  }

  /** Stops it; returns at once. Its events end with 'stopped'. */
  stop() {
    C.httpqq_agent_stop(this.#live);
  }

  /** Stops it, waits until it finished (it logs out), and frees it. What
   * still waits on it ends: nextEvent() with undefined, send() with a
   * StoppedError. */
  close() {
    if (!this.#closed) {
      this.#closed = (async () => {
        agentFinalizer.unregister(this);
        C.httpqq_agent_stop(this.#pointer);
        // It logs out first: on a worker thread.
        await new Promise((resolve) => C.httpqq_agent_free.async(this.#pointer, () => resolve()));
        this.#socket.destroy();
        libc.close(this.#writeFd);
        for (const waiter of this.#waiting.splice(0)) waiter.settle(undefined);
        for (const waiter of this.#sending.values()) {
          waiter.reject(new StoppedError(constants.HTTPQQ_STATUS_STOPPED, 'httpqq: the agent was closed before the send ended', { outcome: 'unknown' }));
        }
        this.#sending.clear();
      })();
    }
    return this.#closed;
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
  Cancelled,
  NotOnline,
  TooLarge,
  constants,
  version: C.httpqq_version(),
};
