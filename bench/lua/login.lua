-- POST login, form-encoded (OAuth2PasswordRequestForm on both servers).
-- Env: BENCH_USER, BENCH_PASSWORD.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
require("common")

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "username=" .. urlencode(os.getenv("BENCH_USER")) ..
           "&password=" .. urlencode(os.getenv("BENCH_PASSWORD"))

function response(status, headers, body)
  count_status(status)
end
