-- The bindings' common scenario, in LuaJIT: run with
--   HTTPQQ_LIB=…/libhttpqq.so luajit test.lua
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local httpqq = require("httpqq")
local TEXT = "你好 & 1+1=2 %26\nsecond line"
local checks, failures = 0, 0

local function check(cond, what)
  checks = checks + 1
  if not cond then
    failures = failures + 1
    io.stderr:write("FAIL: " .. what .. "\n")
  end
end

local function texts(messages)
  local out = {}
  for _, m in ipairs(messages) do
    if m.kind == 9 then out[#out + 1] = m.text end
  end
  return out
end

local server = httpqq.start_server(nil, nil)
local client = httpqq.client(server:endpoint(), { timeout_ms = 5000 })

-- A chat, byte-exact both ways.
local alice = client:login(10001, "demo")
local bob = client:login(10002, "demo")
alice:send(10002, TEXT)
local got = texts(bob:messages())
check(#got == 1 and got[1] == TEXT, "Bob got the text byte-exact")
bob:send(10001, got[1])
local back = texts(alice:messages())
check(#back == 1 and back[1] == TEXT, "Alice got it back byte-exact")
local friends = alice:friends()
check(#friends == 1 and friends[1] == 10002 and type(friends[1]) == "number", "UINs are numbers")

-- A wrong password: a Lua error with the server's reason.
local ok, e = pcall(client.login, client, 10001, "wrong")
check(not ok and getmetatable(e) == httpqq.Error, "a wrong password raises an httpqq error")
check(e.reason == "密码错误" and e.status == httpqq.constants.HTTPQQ_STATUS_LOGIN_FAILED, "with the reason")
check(e.outcome == "refused" and tostring(e):find("密码错误", 1, true) ~= nil, "and its outcome and message")
ok, e = pcall(client.login, client, 99999, "x")
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_INVALID_UIN, "an unknown UIN")

-- Misuse: errors, never a crash.
ok, e = pcall(client.login, client, "10001", "demo")
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_INVALID_ARGUMENT, "a UIN as a string")
ok, e = pcall(client.login, client, 1.5, "demo")
check(not ok, "a fractional UIN")
ok, e = pcall(alice.send, alice, 10002, nil)
check(not ok and e.message:find("string"), "a nil text")
ok, e = pcall(alice.send, alice, 10002, "x\255\254y")
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_INVALID_ARGUMENT, "text that is not UTF-8")
alice:close()
alice:close()
ok, e = pcall(alice.send, alice, 10002, "hi")
check(not ok and e.message:find("closed"), "a closed session")
check(client:login(10001, "demo") ~= nil, "a 64-bit-safe UIN as cdata works too") -- number path
local big = client:login(10001ULL, "demo")
check(big ~= nil, "a UIN as uint64_t")

-- An agent's events.
local agent = client:agent(10002, "demo", { poll_interval_ms = 100 })
local carol = client:login(10001, "demo")
local seen = {}
for event in agent:events() do
  seen[#seen + 1] = event.kind
  if event.kind == "online" then carol:send(10002, TEXT) end
  if event.kind == "message" and event.message.text == TEXT then
    agent:send(10001, "thanks")
    agent:stop()
  end
end
check(seen[1] == "online" and seen[#seen] == "stopped", "events from online to stopped")
ok, e = pcall(agent.send, agent, 10001, "late")
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_STOPPED, "a stopped agent refuses to send")
agent:close()

-- A loop of one's own waits on agent:fd() (here poll(2)), never in C.
local ffi = require("ffi")
ffi.cdef([[
struct pollfd { int fd; short events; short revents; };
int poll(struct pollfd *fds, unsigned long count, int timeout_ms);
int usleep(unsigned int microseconds);
]])
local function readable(fd, timeout_ms)
  local wait = ffi.new("struct pollfd[1]")
  wait[0].fd, wait[0].events = fd, 1 -- POLLIN
  return ffi.C.poll(wait, 1, timeout_ms) == 1
end
local function sleep_ms(ms) ffi.C.usleep(ms * 1000) end

local dave = client:agent(10004, "demo", { poll_interval_ms = 100 })
check(readable(dave:fd(), 5000), "the online event is announced on the fd")
dave:clear_ready()
local first = dave:next_event(0)
check(first and first.kind == "online", "and taken without waiting")
check(dave:next_event(0) == nil and not readable(dave:fd(), 300), "nothing waits: the fd is quiet")
local alice2 = client:login(10001, "demo")
alice2:send(10004, "ping")
local id = dave:start_send(10001, "pong")
check(id == 1, "a started send's id")
local got_ping, result = false, nil
for _ = 1, 50 do
  if got_ping and result then break end
  if readable(dave:fd(), 100) then
    dave:clear_ready()
    result = dave:take_sent() or result
    local event = dave:next_event(0)
    while event do
      if event.message and event.message.text == "ping" then got_ping = true end
      event = dave:next_event(0)
    end
  end
end
check(got_ping, "the message is announced and taken")
check(result and result.id == 1 and result.error == nil, "the started send's result is announced")
local pongs = 0
for _, t in ipairs(texts(alice2:messages())) do pongs = pongs + (t == "pong" and 1 or 0) end
check(pongs == 1, "and it was delivered once")
dave:close()

-- The test controls and every option (durations in milliseconds).
local inbox = os.tmpname()
os.remove(inbox)
local function delivered(body)
  -- Alice logs in for each look: a restart ends plain sessions.
  local look = client:login(10001, "demo")
  local found = false
  for _, t in ipairs(texts(look:messages())) do found = found or t == body end
  look:close()
  return found
end
local bot = client:agent(10002, "demo", {
  poll_interval_ms = 100, backoff_initial_ms = 100, backoff_max_ms = 500, backoff_factor = 2,
  backoff_jitter = 0.1, throttle_penalty_ms = 300, throttle_retries = 3,
  send_pace = { count = 50, window_ms = 10000 }, relogin = true, stop_timeout_ms = 200, inbox = inbox,
})
bot:send(10001, "early")
check(delivered("early"), "a send right after the start waits for the login")
server:stop_listening()
sleep_ms(300)
server:restart()
bot:send(10001, "after the restart")
check(delivered("after the restart"), "a restart is ridden out")
check(server:expire_session(10002), "a session to expire")
bot:send(10001, "after the expiry")
check(delivered("after the expiry"), "an expiry is ridden out")
server:throttle(10002, 500)
bot:send(10001, "after the throttle")
check(delivered("after the throttle"), "a throttle is waited out")
check(server:request_count(10002, "CLTMSG", 3) >= 1, "the throttled send is in the request log")
server:pause()
local paused_at = os.time()
bot:start_send(10001, "after the pause")
sleep_ms(300)
server:resume()
local outcome
for _ = 1, 50 do
  if readable(bot:fd(), 100) then
    bot:clear_ready()
    outcome = bot:take_sent() or outcome
    if outcome then break end
  end
end
check(outcome and outcome.error == nil and os.time() - paused_at < 10, "a pause is ridden out")
check(delivered("after the pause"), "and the message delivered")
bot:close()
os.remove(inbox)
os.remove(inbox .. ".lock")
server:set_latency(0)
server:drop_sessions(false)
check(server:password_checks() >= 1 and server:connections_accepted() >= 1, "the counters")
check(server:change_password(10005, "new"), "a password changed")
local logouts = server:request_count(10004, "Logout")
local fast = client:agent(10004, "demo", { throttle_retries = 0, send_pace = false, logout_on_stop = false })
fast:send(10001, "hello")
server:throttle(10004, 1000)
ok, e = pcall(fast.send, fast, 10001, "too soon")
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_THROTTLED and e.outcome == "refused",
  "retries off: a throttled send fails at once")
fast:close()
check(server:request_count(10004, "Logout") == logouts, "an agent told not to log out on stop did not")
ok, e = pcall(client.agent, client, 10003, "demo", { pol_interval_ms = 100 })
check(not ok and e.message:find("unknown agent option pol_interval_ms", 1, true), "an unknown option is an error")
ok, e = pcall(client.agent, client, 10003, "demo", { backoff_factor = 0.5 })
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_INVALID_CONFIG, "a factor below 1 is refused")
alice2:close()

-- TLS: the test server's own certificate trusted; untrusted, a TLS error
-- with nothing sent; settings that cannot work refused.
local secure = httpqq.start_server(nil, nil, { tls = true })
check(secure:tls_endpoint():find("^https://127%.0%.0%.1:%d+$") ~= nil, "a TLS endpoint")
check(secure:ca_pem():find("BEGIN CERTIFICATE", 1, true) ~= nil, "its certificate")
local over_tls = secure:client({ tls = true, keep_alive = true })
local tls_alice, tls_bob = over_tls:login(10001, "demo"), over_tls:login(10002, "demo")
tls_alice:send(10002, "over TLS")
local got = tls_bob:messages()
check(#got == 1 and got[1].text == "over TLS", "a round trip over TLS")
tls_alice:close(); tls_bob:close(); over_tls:close()
local untrusted = httpqq.client(secure:tls_endpoint(), { timeout_ms = 5000 })
ok, e = pcall(untrusted.login, untrusted, 10001, "demo")
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_TRANSPORT and e.outcome == "refused"
  and e.message:find("unknown issuer", 1, true) ~= nil, "untrusted: a TLS error, nothing sent")
untrusted:close()
ok, e = pcall(httpqq.client, secure:endpoint(), { ca_pem = secure:ca_pem() })
check(not ok and e.status == httpqq.constants.HTTPQQ_STATUS_INVALID_CONFIG, "a CA without TLS is refused")
ok, e = pcall(httpqq.client, secure:endpoint(), { timeout = 5 })
check(not ok and e.message:find("unknown client option timeout", 1, true), "an unknown client option is an error")
check(server:tls_endpoint() == nil and server:ca_pem() == nil, "a plain server has no TLS listener")
secure:close()

-- Everything freed (what was not closed goes with the collector).
bob, carol, big = nil, nil, nil
collectgarbage()
client:close()
server:close()
collectgarbage()

print(string.format("lua: %d checks, %d failed", checks, failures))
os.exit(failures == 0 and 0 or 1)
