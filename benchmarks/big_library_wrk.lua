-- wrk script of benchmarks/big_library.py (closed loop, one connection per wrk thread).
--
-- The paths (one "kind<TAB>path" a line, the kinds in turn) and the bearer tokens (one a
-- line) come from the files named by the environment: BIG_LIBRARY_PATHS, BIG_LIBRARY_TOKENS.
-- Thread i starts at line i of the paths (i * BIG_LIBRARY_STRIDE) and sends the token i (one login session per
-- client, as the Python client does). Each thread times its own requests with
-- clock_gettime (LuaJIT ffi): with one connection per thread, a response answers the
-- request sent just before it. done() writes "kind<TAB>status<TAB>microseconds" lines to
-- BIG_LIBRARY_OUT.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } rh_timespec;
int clock_gettime(int clk_id, rh_timespec *tp);
]]
local ts = ffi.new("rh_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local function lines(name)
  local out = {}
  for line in io.lines(os.getenv(name)) do
    out[#out + 1] = line
  end
  return out
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local kinds, requests = {}, {}
local n, sent_at, sent_kind = 0, 0, nil
tk, st, us = {}, {}, {} -- globals: done() reads them with thread:get

function init(args)
  local tokens = lines("BIG_LIBRARY_TOKENS")
  for i, line in ipairs(lines("BIG_LIBRARY_PATHS")) do
    local kind, path = line:match("^([^\t]+)\t(.+)$")
    kinds[i] = kind
    requests[i] = wrk.format("GET", path, {["Authorization"] = "Bearer " .. tokens[(id % #tokens) + 1]})
  end
  -- BIG_LIBRARY_STRIDE: thread i starts at line i * stride (default 1: the threads walk
  -- one sequence a line apart, so most of them ask for a URL another has just asked for)
  n = id * (tonumber(os.getenv("BIG_LIBRARY_STRIDE")) or 1)
end

function request()
  n = n % #requests + 1
  sent_kind = kinds[n]
  sent_at = now_us()
  return requests[n]
end

function response(status, headers, body)
  local took = now_us() - sent_at
  local i = #us + 1
  tk[i], st[i], us[i] = sent_kind, status, took
end

function done(summary, latency, reqs)
  local out = assert(io.open(os.getenv("BIG_LIBRARY_OUT"), "w"))
  for _, thread in ipairs(threads) do
    local k, s, u = thread:get("tk"), thread:get("st"), thread:get("us")
    for i = 1, #u do
      out:write(k[i], "\t", s[i], "\t", string.format("%.0f", u[i]), "\n")
    end
  end
  out:write("#wrk\t", summary.requests, "\t", summary.duration, "\t", latency:percentile(50), "\t",
            latency:percentile(99), "\n")
  out:close()
end
