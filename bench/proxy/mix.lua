-- wrk script: cycle through request targets read from a file, one per line.
--
--   wrk ... -s mix.lua http://127.0.0.1:PROXY/ -- TARGETS_FILE [HOST_HEADER]
--
-- For a forward proxy the targets are absolute-form ("http://127.0.0.1:ORIGIN/page") and the
-- Host header names the origin, not the proxy wrk connects to.  `done` prints one JSON line
-- (latencies in microseconds) that bench/proxy/run.py parses.

local targets = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    targets[#targets + 1] = line
  end
  if args[2] then
    wrk.headers["Host"] = args[2]
  end
end

function request()
  next_index = next_index % #targets + 1
  return wrk.format("GET", targets[next_index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "mean_us": %.1f, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
