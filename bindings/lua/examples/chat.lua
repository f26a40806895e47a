-- Two demo accounts chat through a server (`httpqq-server --demo`), then
-- the same through a test Server in this process (libhttpqq_testing):
--
--   luajit examples/chat.lua 127.0.0.1:8000
local httpqq = require("httpqq")

local function chat(endpoint)
  local client = httpqq.client(endpoint, { timeout_ms = 5000 })
  local alice = client:login(10001, "demo")
  local bob = client:login(10002, "demo")
  alice:send(10002, "你好, Bob")
  for _, m in ipairs(bob:messages()) do print("Bob got from " .. m.sender .. ": " .. m.text) end
  alice:close()
  bob:close()
  client:close()
end

print("libhttpqq " .. httpqq.version)
chat(arg[1] or "127.0.0.1:8000")
local server = httpqq.start_server()
chat(server:endpoint())
server:close()
