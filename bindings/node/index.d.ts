// Type declarations of httpqq for Node.js (see index.js).

/** What went wrong in libhttpqq. */
export declare class HttpqqError extends Error {
  /** The httpqq_status (see `constants.HTTPQQ_STATUS_*`). */
  readonly status: number;
  /** A short English name of the status ("login failed", …). */
  readonly statusName: string;
  /** The server's own reason, when it gave one (a refused login's, say). */
  readonly reason: string | null;
  /** After RES=3: how long to send nothing more for the session. */
  readonly retryAfterMs: number;
  /** 'refused': certainly not carried out; 'unknown': sent, but no reply
   * came (it may have been; nothing is resent by itself). */
  readonly outcome: 'accepted' | 'refused' | 'unknown';
}
export declare class NoReply extends HttpqqError {}
export declare class NotLoggedIn extends HttpqqError {}
export declare class Throttled extends HttpqqError {}
export declare class InvalidUin extends HttpqqError {}
export declare class LoginFailed extends HttpqqError {}
export declare class ProtocolError extends HttpqqError {}
export declare class TransportError extends HttpqqError {}
export declare class TimeoutError extends HttpqqError {}
export declare class InvalidConfig extends HttpqqError {}
export declare class InvalidArgument extends HttpqqError {}
export declare class ServerError extends HttpqqError {}
export declare class InternalError extends HttpqqError {}
export declare class StoppedError extends HttpqqError {}
/** A send cut short by a stop; `outcome` says whether it went out. */
export declare class Cancelled extends HttpqqError {}
/** An agent's send that found no login within the client's timeout. */
export declare class NotOnline extends HttpqqError {}
/** The request would pass the 64 KiB a server reads: nothing was sent. */
export declare class TooLarge extends HttpqqError {}

/** A QQ number: an integer below 2**53, or a bigint. */
export type Uin = number | bigint;

/** An incoming message. */
export interface Message {
  /** The MT code (constants.HTTPQQ_MESSAGE_KIND_*): 9 text, 99 a status change, … */
  readonly kind: number;
  readonly sender: number;
  /** The text (or reason, or a status change's code as text), exactly as sent. */
  readonly text: string;
  /** A status change's new status; null otherwise. */
  readonly status: number | null;
}

/** One thing an agent reports. */
export interface AgentEvent {
  readonly kind: 'online' | 'reconnecting' | 'throttled' | 'session renewed' | 'message' | 'stopped' | 'other';
  readonly uin: number;
  /** For 'message'. */
  readonly message: Message | null;
  /** For 'reconnecting': failures in a row, from 1. */
  readonly attempt: number;
  /** For 'reconnecting' (the backoff) and 'throttled' (the penalty). */
  readonly delayMs: number;
  /** For 'reconnecting' (what failed) and 'stopped' (why, unless asked to);
   * its `outcome` says what became of the request that failed. */
  readonly error: HttpqqError | null;
}

/** The reference server, in this process (for tests). */
export declare class Server {
  /** Starts it: `listen` ("127.0.0.1:0" by default) and an `accounts`
   * file (the demo accounts 10001-10005, password "demo", by default). */
  static start(options?: { listen?: string | null; accounts?: string | null; tls?: boolean }): Server;
  /** "host:port". */
  readonly endpoint: string;
  /** "https://127.0.0.1:port" of the TLS listener (`tls: true`), else null. */
  readonly tlsEndpoint: string | null;
  /** The TLS listener's certificate (PEM), for `caPem`, else null. */
  readonly caPem: string | null;
  /** A client of it; with `tls: true`, of its TLS listener, trusting it. */
  client(options?: ClientOptions & { tls?: boolean }): Client;
  /** Ends the session as its idle timeout would; whether it had one. */
  expireSession(uin: Uin): boolean;
  /** Answers every request of `uin` with RES=3 for `durationMs`. */
  throttle(uin: Uin, durationMs: number): void;
  /** Delays every reply by `latencyMs` (0: none). */
  setLatency(latencyMs: number): void;
  /** Accepts connections but answers nothing until resume(). */
  pause(): void;
  resume(): void;
  /** Refuses connections, keeping accounts and state, until restart(). */
  stopListening(): void;
  restart(): void;
  /** Changes the password (the session ends); whether the account exists. */
  changePassword(uin: Uin, password: string): boolean;
  /** While on, ends every session right after its login. */
  dropSessions(on: boolean): void;
  passwordChecks(): number;
  connectionsAccepted(): number;
  /** Requests of `uin` answered: of `command` (its wire name) and with
   * `result` ('null' for the NULL) only, when given. */
  requestCount(uin: Uin, filter?: { command?: string | null; result?: number | 'null' | null }): number;
  close(): Promise<void>;
}

export interface ClientOptions {
  timeoutMs?: number;
  connectTimeoutMs?: number;
  keepAlive?: boolean;
  /** Speak TLS (default: only for an https:// endpoint). */
  tls?: boolean | null;
  /** Trust the authorities in this PEM file instead of Mozilla's roots. */
  caFile?: string | null;
  /** Trust the authorities in this PEM text. */
  caPem?: string | null;
}

/** An agent's settings; what is left out is the library's default (see
 * bindings/README.md). An unknown name is a TypeError (and a type error). */
export interface AgentOptions {
  /** How often to poll while no messages come (at least 100). */
  pollIntervalMs?: number;
  /** The first retry's wait after a failure. */
  backoffInitialMs?: number;
  /** The longest retry wait. */
  backoffMaxMs?: number;
  /** How much longer each retry in a row waits (at least 1). */
  backoffFactor?: number;
  /** The fraction (0 to 1) a retry's wait moves at random. */
  backoffJitter?: number;
  /** How long to send nothing after RES=3 (default: the server's penalty). */
  throttlePenaltyMs?: number;
  /** How often a send refused for a penalty is sent again (0: fail at once). */
  throttleRetries?: number;
  /** At most `count` sends in any `windowMs`; false: no pace. */
  sendPace?: { count: number; windowMs: number } | false;
  /** Log in again after RES=20. */
  relogin?: boolean;
  /** Log out when the agent stops (default true). */
  logoutOnStop?: boolean;
  /** How long a stop takes at most. */
  stopTimeoutMs?: number;
  /** A file keeping fetched messages until handled (nothing lost to a crash). */
  inbox?: string;
}

/** A client of one server. */
export declare class Client {
  constructor(endpoint: string, options?: ClientOptions);
  /** Rejects with LoginFailed (with the server's `reason`) for a wrong password. */
  login(uin: Uin, password: string): Promise<Session>;
  /** An agent: a logged-in account that stays up. */
  agent(uin: Uin, password: string, options?: AgentOptions): Agent;
  close(): Promise<void>;
}

/** A logged-in account. */
export declare class Session {
  readonly uin: Uin;
  send(to: Uin, text: string): Promise<void>;
  messages(): Promise<Message[]>;
  friends(): Promise<number[]>;
  logout(): Promise<void>;
  close(): Promise<void>;
}

/** A logged-in account that stays up; its events end with 'stopped'. */
export declare class Agent implements AsyncIterable<AgentEvent> {
  readonly uin: Uin;
  /** The next event, null if none came within `timeoutMs` (default: no
   * limit; 0: only look), undefined once the last was taken. */
  nextEvent(timeoutMs?: number): Promise<AgentEvent | null | undefined>;
  [Symbol.asyncIterator](): AsyncIterator<AgentEvent>;
  /** Says the message taken last was handled (see `inbox`). */
  ack(): void;
  /** Paced, waiting out a penalty or the login; no thread waits meanwhile. */
  send(to: Uin, text: string): Promise<void>;
  stop(): void;
  close(): Promise<void>;
}

/** Every HTTPQQ_ constant of the header, by name. */
export declare const constants: Readonly<Record<string, number>>;
/** libhttpqq's version, e.g. "0.3.0". */
export declare const version: string;
