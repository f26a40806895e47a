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

-- Everything freed (what was not closed goes with the collector).
bob, carol, big = nil, nil, nil
collectgarbage()
client:close()
server:close()
collectgarbage()

print(string.format("lua: %d checks, %d failed", checks, failures))
os.exit(failures == 0 and 0 or 1)
