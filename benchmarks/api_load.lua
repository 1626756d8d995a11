-- wrk's hooks for `python -m benchmarks.api`: each request carries a random member's token (one per line in the
-- file named by LEC_BENCH_TOKENS) and asks for LEC_BENCH_PATH; `done` prints one line that benchmarks/api.py parses.
local tokens = {}
for line in io.lines(os.getenv("LEC_BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local path = os.getenv("LEC_BENCH_PATH")
local threads = 0
function setup(thread) threads = threads + 1; thread:set("seed", threads) end
function init(args) math.randomseed(seed or 1) end
function request()
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("LEC-RESULT %d %d %.1f %.1f %d\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(95),
    summary.duration))
end
