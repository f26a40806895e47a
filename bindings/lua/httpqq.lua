-- httpqq for LuaJIT: libhttpqq through the ffi library. The declarations
-- are the flat header libhttpqq installs (httpqq_cdef.h), given to
-- ffi.cdef as they are; this module turns handles into objects freed by
-- ffi.gc, failures into Lua errors, and UINs into numbers.
--
-- Where the library is: HTTPQQ_LIB (a path), else the system's loader
-- ("httpqq"). Where the declarations are: HTTPQQ_CDEF, else
-- ../include/httpqq_cdef.h beside HTTPQQ_LIB, else /usr/local/include and
-- /usr/include.
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

local lib_path = os.getenv("HTTPQQ_LIB")
local cdef
for _, candidate in ipairs({
  os.getenv("HTTPQQ_CDEF") or false,
  lib_path and (lib_path:match("^(.*)/[^/]*$") or ".") .. "/../include/httpqq_cdef.h" or false,
  "/usr/local/include/httpqq_cdef.h",
  "/usr/include/httpqq_cdef.h",
}) do
  cdef = candidate and read(candidate)
  if cdef then break end
end
assert(cdef, "httpqq: cannot find httpqq_cdef.h (set HTTPQQ_CDEF)")
ffi.cdef(cdef)
local C = ffi.load(lib_path or "httpqq")

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

function M.start_server(listen, accounts)
  local out = ffi.new("httpqq_server *[1]")
  check(C.httpqq_server_start(listen, accounts, out, err))
  return handle(Server, out[0], C.httpqq_server_free)
end

function Server:endpoint() return ffi.string(C.httpqq_server_endpoint(pointer_of(self, "server"))) end
function Server:close() close(self) end

-- A client of one server.
local Client = {}
Client.__index = Client
M.Client = Client

function M.client(endpoint, options)
  options = options or {}
  local builder = ffi.gc(C.httpqq_client_builder_new(), C.httpqq_client_builder_free)
  check(C.httpqq_client_builder_set_endpoint(builder, text(endpoint, "endpoint"), err))
  check(C.httpqq_client_builder_set_timeout_ms(builder, options.timeout_ms or 30000, err))
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

function Client:agent(who, password, options)
  options = options or {}
  local settings = ffi.gc(C.httpqq_agent_options_new(), C.httpqq_agent_options_free)
  check(C.httpqq_agent_options_set_poll_interval_ms(settings, options.poll_interval_ms or 5000, err))
  local out = ffi.new("httpqq_agent *[1]")
  check(C.httpqq_agent_start(pointer_of(self, "client"), uin(who), text(password, "password"), settings, out, err))
  return handle(Agent, out[0], C.httpqq_agent_free)
end

-- The next event (a table), nil if none came within timeout_ms, or false
-- once the last one was taken.
function Agent:next_event(timeout_ms)
  local out = ffi.new("httpqq_event *[1]")
  local status = C.httpqq_agent_next_event(pointer_of(self, "agent"), timeout_ms or 1000, out, err)
  if status == C.HTTPQQ_STATUS_STOPPED then return false end
  check(status)
  if out[0] == nil then return nil end
  local event = ffi.gc(out[0], C.httpqq_event_free)
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
  }
end

-- for event in agent:events() do … end (ends after "stopped")
function Agent:events()
  return function()
    while true do
      local event = self:next_event(250)
      if event == false then return nil end
      if event then return event end
    end
  end
end

function Agent:send(to, message)
  local outcome = ffi.new("uint32_t[1]")
  check(C.httpqq_agent_send(pointer_of(self, "agent"), uin(to, "to"), text(message, "message"), outcome, err))
end

function Agent:stop() C.httpqq_agent_stop(pointer_of(self, "agent")) end
function Agent:close() close(self) end

M.constants = setmetatable({}, { __index = function(_, name) return C[name] end })

return M
