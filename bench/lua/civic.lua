-- wrk script for Civic's benchmarks (bench/wrk.py writes the request file and reads the result).
--
-- CIVIC_WRK_REQUESTS names a file with one request per line, fields separated by tabs:
--   METHOD <tab> PATH <tab> BODY (urlencoded, may be empty) <tab> Header: value <tab> ...
-- Each thread cycles through the lines from its own offset. CIVIC_WRK_DELAY_MS, if set, paces
-- each connection (a pause before each request). Statuses are counted; 429 and 503 responses
-- that carry Retry-After count as "shed". done() prints one line: CIVIC_RESULT {json}.

local requests_file = os.getenv("CIVIC_WRK_REQUESTS")
local delay_ms = tonumber(os.getenv("CIVIC_WRK_DELAY_MS") or "0")
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  for line in io.lines(requests_file) do
    local fields = {}
    for f in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(fields, f)
    end
    local headers = {}
    for i = 4, #fields do
      local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
      if name then headers[name] = value end
    end
    local body = nil
    if fields[3] ~= nil and fields[3] ~= "" then
      body = fields[3]
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    end
    table.insert(prepared, wrk.format(fields[1], fields[2], headers, body))
  end
  position = (thread_index * 7919) % #prepared
  statuses = {}
  shed = 0
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status == 503 or status == 429) and headers["Retry-After"] ~= nil then
    shed = shed + 1
  end
end

function done(summary, latency, requests)
  local totals = {}
  local shed_total = 0
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      totals[code] = (totals[code] or 0) + n
    end
    shed_total = shed_total + thread:get("shed")
  end
  local parts = {}
  for code, n in pairs(totals) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'CIVIC_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d}, ' ..
    '"statuses": {%s}, "shed": %d}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99),
    table.concat(parts, ", "), shed_total))
end
