-- Shared by the bench/lua/*.lua scripts: per-thread status counting and a
-- machine-readable summary ("BENCH key=value ...") printed by done().
-- Scripts that define `count_statuses = true` get a response() callback
-- (slower for wrk, so the users/me script does not use it).

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function fmt_summary(summary, latency)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local line = string.format(
    "BENCH requests=%d secs=%.3f rps=%.2f p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f errs_connect=%d errs_read=%d errs_write=%d errs_timeout=%d non2xx=%d",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status)
  local counts = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for code, n in string.gmatch(s, "(%d+)=(%d+)") do
        counts[code] = (counts[code] or 0) + tonumber(n)
      end
    end
  end
  for code, n in pairs(counts) do
    line = line .. string.format(" s%s=%d", code, n)
  end
  return line
end

function done(summary, latency, requests)
  io.write(fmt_summary(summary, latency) .. "\n")
end

-- Per-thread status counts, kept in the thread's own Lua state and exported
-- as a string "200=12 503=3" for done() to read via thread:get().
status_counts = {}
function count_status(status)
  status_counts[status] = (status_counts[status] or 0) + 1
  local parts = {}
  for code, n in pairs(status_counts) do
    table.insert(parts, code .. "=" .. n)
  end
  statuses = table.concat(parts, " ")
end
