-- wrk script of the tile and WMS benchmarks: requests every path of $WRK_PATHS (one per line) exactly
-- once, in order, over wrk's connections, then stops; writes a JSON summary to $WRK_OUT.
-- Run with one thread (-t1): the counters below live in that thread's Lua state.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local n = #paths
local threads = {}
-- Optional: answers whose Content-Type does not start with $WRK_EXPECT_TYPE count as failed (MapServer
-- reports errors as a 200 with an XML exception).
local expect_type = os.getenv("WRK_EXPECT_TYPE") or ""

-- wrk's main thread sleeps for the whole -d duration even after a thread stops; a SIGINT (what wrk
-- handles as "stop now") ends the run as soon as the last path is answered. The span from the first
-- request to the last response is timed here (monotonic clock), not by wrk's -d.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
  int kill(int pid, int sig);
  int getpid(void);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  sent, ok, bad, body_bytes, largest, first_bad, t_first, t_last = 0, 0, 0, 0, 0, "", 0, 0
end

function request()
  sent = sent + 1
  if sent == 1 then t_first = now_us() end
  -- After the last path, the connections still waiting send a repeat that is never counted:
  -- the thread stops at the n-th response.
  return wrk.format(nil, paths[((sent - 1) % n) + 1])
end

function response(status, headers, body)
  -- Answers that reach the same event-loop turn as the n-th one are the uncounted repeats.
  if ok + bad >= n then return end
  local len = body and #body or 0
  local ctype = headers["Content-Type"] or headers["content-type"] or ""
  if (status == 200 or status == 204) and (expect_type == "" or string.sub(ctype, 1, #expect_type) == expect_type) then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 120) end
  end
  body_bytes = body_bytes + len
  if len > largest then largest = len end
  if ok + bad == n then
    t_last = now_us()
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

local function q(s)
  return '"' .. s:gsub('[%c"\\]', " ") .. '"'
end

function done(summary, latency, requests)
  local t = threads[1]
  local e = summary.errors
  local f = assert(io.open(os.getenv("WRK_OUT"), "w"))
  f:write(string.format(
    '{"paths":%d,"responses":%d,"ok":%d,"bad":%d,"first_bad":%s,"duration_us":%d,"span_us":%d,"wire_bytes":%d,' ..
    '"body_bytes":%d,"largest_body":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}',
    n, summary.requests, t:get("ok"), t:get("bad"), q(t:get("first_bad")), summary.duration, t:get("t_last") - t:get("t_first"), summary.bytes,
    t:get("body_bytes"), t:get("largest"), e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
  f:close()
end
