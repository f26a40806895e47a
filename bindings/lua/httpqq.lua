-- httpqq for LuaJIT: libhttpqq through the ffi library. The declarations
-- are the flat header libhttpqq installs (httpqq_cdef.h), given to
-- ffi.cdef as they are; this module turns handles into objects freed by
-- ffi.gc, failures into Lua errors, and UINs into numbers.
--
-- Where the library is: HTTPQQ_LIB (a path), else where LuaRocks found
-- it when the rock was installed (the module httpqq.config it wrote),
-- else the system's loader ("httpqq"). Where the declarations are:
-- HTTPQQ_CDEF, else ../include/httpqq_cdef.h beside the library, else
-- the rock's include folder, else /usr/local/include and /usr/include. The test Server's library, libhttpqq_testing, is loaded
-- when the first one starts: HTTPQQ_TESTING_LIB, else beside HTTPQQ_LIB,
-- else the system's loader; its declarations (httpqq_testing_cdef.h) are
-- looked for as libhttpqq's are.
--
--   local httpqq = require("httpqq")
--   local client = httpqq.client("127.0.0.1:8000")
--   local alice = client:login(10001, "demo")
--   alice:send(10002, "你好")
--   for _, m in ipairs(alice:messages()) do print(m.sender, m.text) end
--   alice:close()

local ffi = require("ffi")

local function read(path)
  local file = path and io.open(path, "rb")
  if not file then return nil end
  local text = file:read("*a")
  file:close()
  return text
end

-- What the rock recorded: { lib_dir = ..., include_dir = ... }.
local found, config = pcall(require, "httpqq.config")
if not found then config = {} end
local function library_file(name)
  if ffi.os == "Windows" then return name .. ".dll" end
  if ffi.os == "OSX" then return "lib" .. name .. ".dylib" end
  return "lib" .. name .. ".so"
end

local lib_path = os.getenv("HTTPQQ_LIB") or (config.lib_dir and config.lib_dir .. "/" .. library_file("httpqq"))
local lib_dir = lib_path and (lib_path:match("^(.*)/[^/]*$") or ".")

-- The flat declarations `file`: `override`, else beside the library, else
-- the system's include folders.
local function declarations(file, override)
  for _, candidate in ipairs({
    override or false,
    lib_dir and lib_dir .. "/../include/" .. file or false,
    config.include_dir and config.include_dir .. "/" .. file or false,
    "/usr/local/include/" .. file,
    "/usr/include/" .. file,
  }) do
    local text = candidate and read(candidate)
    if text then return text end
  end
  error("httpqq: cannot find " .. file .. " (set HTTPQQ_CDEF)")
end

ffi.cdef(declarations("httpqq_cdef.h", os.getenv("HTTPQQ_CDEF")))
local C = ffi.load(lib_path or "httpqq")

-- libhttpqq_testing, for the test Server: loaded once, when needed.
local testing
local function T()
  if not testing then
    ffi.cdef(declarations("httpqq_testing_cdef.h", os.getenv("HTTPQQ_TESTING_CDEF")))
    local name = library_file("httpqq_testing")
    testing = ffi.load(os.getenv("HTTPQQ_TESTING_LIB") or (lib_dir and lib_dir .. "/" .. name) or "httpqq_testing")
  end
  return testing
end

-- The few libc functions an agent's pipe needs (the agent announces on it
-- that events are waiting; see Agent:fd()).
ffi.cdef([[
int pipe(int fds[2]);
int fcntl(int fd, int command, ...);
long read(int fd, void *buffer, size_t size);
int close(int fd);
]])
local F_SETFD, FD_CLOEXEC, F_GETFL, F_SETFL = 2, 1, 3, 4
local O_NONBLOCK = ffi.os == "OSX" and 4 or 2048

local M = { version = ffi.string(C.httpqq_version()) }

-- Errors: tables with the status, its name, the message, the server's
-- reason, the outcome and the penalty; tostring gives the message.
local Error = {}
Error.__index = Error
Error.__tostring = function(e) return "httpqq: " .. e.message end
M.Error = Error

local OUTCOMES = { [0] = "accepted", "refused", "unknown" }

local function failure(err)
  local reason = C.httpqq_error_reason(err)
  local status = C.httpqq_error_status(err)
  return setmetatable({
    status = status,
    status_name = ffi.string(C.httpqq_status_name(status)),
    message = ffi.string(C.httpqq_error_message(err)),
    reason = reason ~= nil and ffi.string(reason) or nil,
    outcome = OUTCOMES[C.httpqq_error_outcome(err)],
    retry_after_ms = tonumber(C.httpqq_error_retry_after_ms(err)),
  }, Error)
end

-- One error object, reused: LuaJIT runs one call at a time per state.
local err = ffi.gc(C.httpqq_error_new(), C.httpqq_error_free)

local function check(status)
  if status ~= 0 then error(failure(err), 3) end
end

local function misuse(message)
  error(setmetatable({ status = C.HTTPQQ_STATUS_INVALID_ARGUMENT, status_name = "invalid argument",
    message = message, outcome = "refused", retry_after_ms = 0 }, Error), 3)
end

-- A UIN: a whole number from 0 (exact below 2^53) or a uint64_t cdata.
local function uin(value, what)
  if type(value) == "number" and value >= 0 and value < 2^53 and math.floor(value) == value then
    return value
  end
  if type(value) == "cdata" and ffi.istype("uint64_t", value) then return value end
  misuse((what or "uin") .. " must be a QQ number (a whole number from 0), not " .. tostring(value))
end

-- What C gives as uint64_t: a number while exact, else the cdata.
local function number(value)
  if value < 2ULL^53 then return tonumber(value) end
  return value
end

local function text(value, what)
  if type(value) ~= "string" then misuse(what .. " must be a string, not a " .. type(value)) end
  return value
end

-- Handles: freed by ffi.gc, or at once by close(); used after close(),
-- an error.
local function handle(class, pointer, free)
  return setmetatable({ ptr = ffi.gc(pointer, free), free = free }, class)
end

local function pointer_of(object, what)
  if type(object) ~= "table" or object.ptr == nil then misuse("the " .. what .. " is closed") end
  return object.ptr
end

local function close(object)
  if object.ptr ~= nil then
    local ptr = object.ptr
    object.ptr = nil
    ffi.gc(ptr, nil)
    object.free(ptr)
  end
end

local function message_of(m)
  local length = ffi.new("size_t[1]")
  local bytes = C.httpqq_message_text(m, length)
  local status = C.httpqq_message_status(m)
  return {
    kind = C.httpqq_message_get_kind(m),
    sender = number(C.httpqq_message_sender(m)),
    text = ffi.string(bytes, length[0]),
    status = status ~= 0 and status or nil,
  }
end

-- The reference server, in this process (for tests).
local Server = {}
Server.__index = Server
M.Server = Server

-- options.tls: a second listener that speaks TLS, with a certificate made
-- at start (Server:tls_endpoint(), Server:ca_pem()).
function M.start_server(listen, accounts, options)
  local testing_lib = T()
  local out = ffi.new("httpqq_server *[1]")
  local start = (options or {}).tls and testing_lib.httpqq_server_start_tls or testing_lib.httpqq_server_start
  check(start(listen, accounts, out, err))
  return handle(Server, out[0], testing_lib.httpqq_server_free)
end

local function optional_string(pointer)
  if pointer == nil then return nil end
  return ffi.string(pointer)
end

function Server:endpoint() return ffi.string(T().httpqq_server_endpoint(pointer_of(self, "server"))) end
-- "https://127.0.0.1:port" of the TLS listener, or nil.
function Server:tls_endpoint() return optional_string(T().httpqq_server_tls_endpoint(pointer_of(self, "server"))) end
-- The TLS listener's certificate (PEM), for a client's ca_pem, or nil.
function Server:ca_pem() return optional_string(T().httpqq_server_tls_ca_pem(pointer_of(self, "server"))) end
-- A client of it; with options.tls, of its TLS listener, trusting it.
function Server:client(options)
  local settings = {}
  for k, v in pairs(options or {}) do settings[k] = v end
  if not settings.tls then settings.tls = nil; return M.client(self:endpoint(), settings) end
  local endpoint = self:tls_endpoint()
  if endpoint == nil then misuse("this server has no TLS listener: start it with { tls = true }") end
  settings.ca_pem = self:ca_pem()
  return M.client(endpoint, settings)
end
function Server:close() close(self) end

-- The test controls: rehearse what a bot meets in the field (durations in
-- milliseconds).

-- Ends uin's session as its idle timeout would; whether it had one.
function Server:expire_session(who) return T().httpqq_server_expire_session(pointer_of(self, "server"), uin(who)) end
-- Answers every request of uin with RES=3 for duration_ms.
function Server:throttle(who, duration_ms) T().httpqq_server_throttle(pointer_of(self, "server"), uin(who), duration_ms) end
-- Delays every reply by latency_ms (0: none).
function Server:set_latency(latency_ms) T().httpqq_server_set_latency_ms(pointer_of(self, "server"), latency_ms) end
-- Accepts connections but answers nothing until resume().
function Server:pause() T().httpqq_server_pause(pointer_of(self, "server")) end
function Server:resume() T().httpqq_server_resume(pointer_of(self, "server")) end
-- Closes the listening socket (connections are refused), keeping the
-- accounts and their state, until restart() listens again.
function Server:stop_listening() T().httpqq_server_stop_listening(pointer_of(self, "server")) end
function Server:restart() check(T().httpqq_server_restart(pointer_of(self, "server"), err)) end
-- Changes uin's password (its session ends); whether the account exists.
function Server:change_password(who, password)
  return T().httpqq_server_change_password(pointer_of(self, "server"), uin(who), text(password, "password"))
end
-- While on, ends every session right after its login (a NAT that changes
-- the client's address).
function Server:drop_sessions(on) T().httpqq_server_drop_sessions(pointer_of(self, "server"), on and true or false) end
function Server:password_checks() return number(T().httpqq_server_password_checks(pointer_of(self, "server"))) end
function Server:connections_accepted() return number(T().httpqq_server_connections_accepted(pointer_of(self, "server"))) end
-- Requests of uin answered: of command only (its wire name, e.g.
-- "CLTMSG") and with result only ("null" for the NULL), when given.
function Server:request_count(who, command, result)
  local res = result == nil and -1 or result == "null" and -2 or result
  return number(T().httpqq_server_request_count(pointer_of(self, "server"), uin(who), command, res))
end

-- A client of one server.
local Client = {}
Client.__index = Client
M.Client = Client

-- A whole number from 0 (durations in milliseconds, counts).
local function whole(value, what)
  if type(value) ~= "number" or value < 0 or math.floor(value) ~= value then
    misuse(what .. " must be a whole number from 0, not " .. tostring(value))
  end
  return value
end

-- The client options: their setters; an unknown name is an error.
local CLIENT_OPTIONS = {
  timeout_ms = function(b, v) return C.httpqq_client_builder_set_timeout_ms(b, whole(v, "timeout_ms"), err) end,
  connect_timeout_ms = function(b, v) return C.httpqq_client_builder_set_connect_timeout_ms(b, whole(v, "connect_timeout_ms"), err) end,
  keep_alive = function(b, v) return C.httpqq_client_builder_set_keep_alive(b, v and true or false, err) end,
  -- TLS (default: only for an https:// endpoint), verified against Mozilla's
  -- roots unless ca_file or ca_pem name the authority to trust.
  tls = function(b, v) return C.httpqq_client_builder_set_tls(b, v and true or false, err) end,
  ca_file = function(b, v) return C.httpqq_client_builder_set_ca_file(b, text(v, "ca_file"), err) end,
  ca_pem = function(b, v) return C.httpqq_client_builder_set_ca_pem(b, text(v, "ca_pem"), err) end,
}

function M.client(endpoint, options)
  local builder = ffi.gc(C.httpqq_client_builder_new(), C.httpqq_client_builder_free)
  check(C.httpqq_client_builder_set_endpoint(builder, text(endpoint, "endpoint"), err))
  for name, value in pairs(options or {}) do
    local set = CLIENT_OPTIONS[name]
    if not set then misuse("unknown client option " .. tostring(name)) end
    check(set(builder, value))
  end
  local out = ffi.new("httpqq_client *[1]")
  check(C.httpqq_client_builder_build(builder, out, err))
  return handle(Client, out[0], C.httpqq_client_free)
end

function Client:close() close(self) end

-- A logged-in account.
local Session = {}
Session.__index = Session
M.Session = Session

function Client:login(who, password)
  local out = ffi.new("httpqq_session *[1]")
  check(C.httpqq_client_login(pointer_of(self, "client"), uin(who), text(password, "password"), out, err))
  local session = handle(Session, out[0], C.httpqq_session_free)
  session.uin = who
  return session
end

function Session:send(to, message)
  check(C.httpqq_session_send_message(pointer_of(self, "session"), uin(to, "to"), text(message, "message"), err))
end

function Session:messages()
  local out = ffi.new("httpqq_message_list *[1]")
  check(C.httpqq_session_fetch_messages(pointer_of(self, "session"), out, err))
  local list = ffi.gc(out[0], C.httpqq_message_list_free)
  local messages = {}
  for n = 0, tonumber(C.httpqq_message_list_len(list)) - 1 do
    messages[#messages + 1] = message_of(C.httpqq_message_list_get(list, n))
  end
  return messages
end

function Session:friends()
  local out = ffi.new("httpqq_friend_list *[1]")
  check(C.httpqq_session_friends(pointer_of(self, "session"), 0, out, err))
  local list = ffi.gc(out[0], C.httpqq_friend_list_free)
  local friends = {}
  for n = 0, tonumber(C.httpqq_friend_list_len(list)) - 1 do
    friends[#friends + 1] = number(C.httpqq_friend_list_get(list, n))
  end
  return friends
end

function Session:logout() check(C.httpqq_session_logout(pointer_of(self, "session"), err)) end
function Session:close() close(self) end

-- An agent: a logged-in account that stays up (backoff, penalties,
-- re-login) and reports it all as events.
local Agent = {}
Agent.__index = Agent
M.Agent = Agent

local EVENTS = { "online", "reconnecting", "throttled", "session renewed", "message", "stopped" }

-- The agent options: their setters, and how each value is checked.
-- Durations in milliseconds; what is left out is the library's default
-- (see bindings/README.md); an unknown name is an error.
local function real(value, what)
  if type(value) ~= "number" then misuse(what .. " must be a number, not " .. tostring(value)) end
  return value
end
local AGENT_OPTIONS = {
  poll_interval_ms = function(o, v) return C.httpqq_agent_options_set_poll_interval_ms(o, whole(v, "poll_interval_ms"), err) end,
  backoff_initial_ms = function(o, v) return C.httpqq_agent_options_set_backoff_initial_ms(o, whole(v, "backoff_initial_ms"), err) end,
  backoff_max_ms = function(o, v) return C.httpqq_agent_options_set_backoff_max_ms(o, whole(v, "backoff_max_ms"), err) end,
  backoff_factor = function(o, v) return C.httpqq_agent_options_set_backoff_factor(o, real(v, "backoff_factor"), err) end,
  backoff_jitter = function(o, v) return C.httpqq_agent_options_set_backoff_jitter(o, real(v, "backoff_jitter"), err) end,
  throttle_penalty_ms = function(o, v) return C.httpqq_agent_options_set_throttle_penalty_ms(o, whole(v, "throttle_penalty_ms"), err) end,
  throttle_retries = function(o, v) return C.httpqq_agent_options_set_throttle_retries(o, whole(v, "throttle_retries"), err) end,
  -- { count = N, window_ms = W }, or false for none
  send_pace = function(o, v)
    if v == false then return C.httpqq_agent_options_set_send_pace(o, 0, 0, err) end
    if type(v) ~= "table" then misuse("send_pace must be { count = N, window_ms = W } or false") end
    return C.httpqq_agent_options_set_send_pace(o, whole(v.count, "send_pace.count"), whole(v.window_ms, "send_pace.window_ms"), err)
  end,
  relogin = function(o, v) return C.httpqq_agent_options_set_relogin(o, v and true or false, err) end,
  logout_on_stop = function(o, v) return C.httpqq_agent_options_set_logout_on_stop(o, v and true or false, err) end,
  stop_timeout_ms = function(o, v) return C.httpqq_agent_options_set_stop_timeout_ms(o, whole(v, "stop_timeout_ms"), err) end,
  inbox = function(o, v) return C.httpqq_agent_options_set_inbox(o, text(v, "inbox"), err) end,
}

local function close_fds(fds)
  for i = 0, 1 do
    if fds[i] >= 0 then ffi.C.close(fds[i]) end
    fds[i] = -1
  end
end

-- An agent (see Agent). The agent announces that events or send results
-- are waiting by writing to a pipe whose read end is agent:fd().
function Client:agent(who, password, options)
  options = options or {}
  local settings = ffi.gc(C.httpqq_agent_options_new(), C.httpqq_agent_options_free)
  for name, value in pairs(options) do
    local set = AGENT_OPTIONS[name]
    if not set then misuse("unknown agent option " .. tostring(name)) end
    check(set(settings, value))
  end
  local fds = ffi.new("int[2]", -1, -1)
  if ffi.C.pipe(fds) ~= 0 then misuse("cannot make the agent's pipe") end
  for i = 0, 1 do ffi.C.fcntl(fds[i], F_SETFD, ffi.new("int", FD_CLOEXEC)) end
  ffi.C.fcntl(fds[0], F_SETFL, ffi.new("int", bit.bor(ffi.C.fcntl(fds[0], F_GETFL), O_NONBLOCK)))
  local out = ffi.new("httpqq_agent *[1]")
  local status = C.httpqq_agent_options_set_event_fd(settings, fds[1], err)
  if status == 0 then
    status = C.httpqq_agent_start(pointer_of(self, "client"), uin(who), text(password, "password"), settings, out, err)
  end
  if status ~= 0 then
    close_fds(fds)
    check(status)
  end
  -- Freed first, then its pipe: the library writes to it until then.
  local agent = handle(Agent, out[0], function(raw)
    C.httpqq_agent_free(raw)
    close_fds(fds)
  end)
  agent.fds = fds
  agent.uin = who
  return agent
end

-- The read end of the agent's pipe: readable when events or the results
-- of started sends are waiting. Give it to your loop (luv: uv.new_poll(fd);
-- copas and cqueues: see README.md), then call agent:clear_ready() and take
-- what waits with agent:next_event(0) and agent:take_sent() until nil.
function Agent:fd()
  pointer_of(self, "agent")
  return self.fds[0]
end

-- Reads what announced readiness from fd().
function Agent:clear_ready()
  local buffer = ffi.new("char[256]")
  while ffi.C.read(self:fd(), buffer, 256) > 0 do end
end

local function event_of(event)
  local message = C.httpqq_event_message(event)
  local reason = C.httpqq_event_reason(event)
  local problem = C.httpqq_event_error_message(event)
  return {
    kind = EVENTS[C.httpqq_event_get_kind(event)] or "other",
    uin = number(C.httpqq_event_uin(event)),
    message = message ~= nil and message_of(message) or nil,
    attempt = C.httpqq_event_attempt(event),
    delay_ms = tonumber(C.httpqq_event_delay_ms(event)),
    error = problem ~= nil and ffi.string(problem) or nil,
    reason = reason ~= nil and ffi.string(reason) or nil,
    outcome = problem ~= nil and OUTCOMES[C.httpqq_event_outcome(event)] or nil,
  }
end

-- The next event (a table), nil if none came within timeout_ms (0: only
-- look, the default 1000), or false once the last one was taken. Taking an
-- event says the message taken before was handled (see the inbox option).
function Agent:next_event(timeout_ms)
  local out = ffi.new("httpqq_event *[1]")
  local status = C.httpqq_agent_next_event(pointer_of(self, "agent"), timeout_ms or 1000, out, err)
  if status == C.HTTPQQ_STATUS_STOPPED then return false end
  check(status)
  if out[0] == nil then return nil end
  local event = ffi.gc(out[0], C.httpqq_event_free)
  return event_of(event)
end

-- for event in agent:events() do … end (ends after "stopped"; waits in C)
function Agent:events()
  return function()
    while true do
      local event = self:next_event(60000)
      if event == false then return nil end
      if event then return event end
    end
  end
end

-- Says the message taken last was handled (with an inbox it is forgotten;
-- taking the next event does this too).
function Agent:ack() C.httpqq_agent_ack(pointer_of(self, "agent")) end

-- Sends a text message, waiting for the answer (paced, waiting out a
-- penalty or the login).
function Agent:send(to, message)
  local outcome = ffi.new("uint32_t[1]")
  check(C.httpqq_agent_send(pointer_of(self, "agent"), uin(to, "to"), text(message, "message"), outcome, err))
end

-- Starts a send and returns its id at once: its result comes from
-- take_sent(), announced on fd().
function Agent:start_send(to, message)
  local id = ffi.new("uint64_t[1]")
  check(C.httpqq_agent_start_send(pointer_of(self, "agent"), uin(to, "to"), text(message, "message"), id, err))
  return number(id[0])
end

-- The result of a started send, if one waits: { id = …, error = nil } when
-- the server accepted it, else error is an httpqq error (with its outcome).
function Agent:take_sent()
  local out = ffi.new("httpqq_sent *[1]")
  check(C.httpqq_agent_take_sent(pointer_of(self, "agent"), out, err))
  if out[0] == nil then return nil end
  local sent = ffi.gc(out[0], C.httpqq_sent_free)
  local status = C.httpqq_sent_status(sent)
  local result = { id = number(C.httpqq_sent_id(sent)) }
  if status ~= 0 then
    result.error = setmetatable({
      status = status,
      status_name = ffi.string(C.httpqq_status_name(status)),
      message = ffi.string(C.httpqq_sent_error_message(sent)),
      outcome = OUTCOMES[C.httpqq_sent_outcome(sent)],
      retry_after_ms = tonumber(C.httpqq_sent_retry_after_ms(sent)),
    }, Error)
  end
  return result
end

function Agent:stop() C.httpqq_agent_stop(pointer_of(self, "agent")) end
function Agent:close() close(self) end

M.constants = setmetatable({}, { __index = function(_, name) return C[name] end })

return M
