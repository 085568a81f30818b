-- wrk script of `make bench-vs-etcd`: the same client logic for both systems. Every request is a
-- write of a new key (no batching), or with KEYS_PER_THREAD > 0 an overwrite of one of that many
-- keys per thread, taken in turn, with the same ~300-byte JSON value:
--   nacos: POST /nacos/v1/ns/raft/datum   {"key":"<key>","value":<value>}
--   etcd:  POST /v3/kv/put                {"key":"<base64 key>","value":"<base64 value>"}
-- The keys are "<prefix><thread>-<n>" with a prefix unique to each wrk run, so the harness can
-- count afterwards how many of them the system stored.
--
--   wrk -t T -c C -d D -s writes.lua http://127.0.0.1:PORT -- SYSTEM PREFIX VALUE_FILE [KEYS_PER_THREAD]
--
-- done() prints one line "VS_ETCD_RESULT {json}" that the harness reads.

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Standard base64 with padding (RFC 4648 §4), as etcd's JSON gateway expects for bytes fields.
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local q1 = math.floor(n / 262144) % 64
    local q2 = math.floor(n / 4096) % 64
    local q3 = math.floor(n / 64) % 64
    local q4 = n % 64
    out[#out + 1] = B64:sub(q1 + 1, q1 + 1) .. B64:sub(q2 + 1, q2 + 1)
      .. (b and B64:sub(q3 + 1, q3 + 1) or "=") .. (c and B64:sub(q4 + 1, q4 + 1) or "=")
  end
  return table.concat(out)
end

local next_thread = 0

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end

local system, prefix, body_head, body_tail, path, headers
local n = 0
local cycle = 0

function init(args)
  system, prefix = args[1], args[2]
  cycle = tonumber(args[4] or "0") or 0
  local f = assert(io.open(args[3], "rb"))
  local value = f:read("*a")
  f:close()
  prefix = prefix .. thread_no .. "-"
  if system == "nacos" then
    path = "/nacos/v1/ns/raft/datum"
    headers = { ["Content-Type"] = "application/json;charset=UTF-8" }
    body_tail = '","value":' .. value .. "}"
  elseif system == "etcd" then
    path = "/v3/kv/put"
    headers = { ["Content-Type"] = "application/json" }
    body_tail = '","value":"' .. base64(value) .. '"}'
  else
    error("system must be nacos or etcd, not " .. tostring(system))
  end
end

function request()
  n = n + 1
  local key = prefix .. (cycle > 0 and (n - 1) % cycle or n)
  if system == "etcd" then
    key = base64(key)
  end
  return wrk.format("POST", path, headers, '{"key":"' .. key .. body_tail)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'VS_ETCD_RESULT {"duration_us":%d,"requests":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"latency_p50_us":%d,'
      .. '"latency_p99_us":%d,"latency_mean_us":%.1f,"latency_max_us":%d}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(99.0), latency.mean, latency.max))
end
