-- POST register (JSON) with a unique username per request:
-- "b" .. thread id .. random .. counter, 3-32 chars of [A-Za-z0-9_.-].
-- The password (env BENCH_PASSWORD) never contains the username.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
require("common")

local counter = 0
local salt
local password = os.getenv("BENCH_PASSWORD")

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
  salt = string.format("%06x", math.random(0, 0xffffff))
end

function request()
  counter = counter + 1
  local name = string.format("b%d%s%d", tid or 0, salt, counter)
  local body = string.format(
    '{"username":"%s","email":"%s@example.com","password":"%s"}', name, name, password)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  count_status(status)
end
