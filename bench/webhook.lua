-- wrk script of bench/channels.py: POST /whatsapp with pre-signed WhatsApp webhook bodies, each
-- sent ONCE (a repeated wamid is de-duplicated by design: it would get no reply). Thread t reads
-- PREFIX.t (lines "signature<TAB>index<TAB>body", made in Python), records when it sent each
-- body (CLOCK_MONOTONIC, Python's time.monotonic) and tallies the non-2xx statuses by code; done
-- writes "index time" lines to PREFIX.sent, and how many bodies were sent again (exhausted).
-- Usage: wrk -s bench/webhook.lua URL/whatsapp -- PREFIX

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } gb_timespec;
  int clock_gettime(int clk_id, gb_timespec *tp);
]]
local ts = ffi.new("gb_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local requests, indexes, n = {}, {}, 0
sent = {}       -- this thread's send times, by body index (globals: done reads them)
statuses = {}   -- this thread's non-2xx responses, by status code
exhausted = 0   -- bodies sent a second time (the file was too short)
prefix = nil    -- this thread's file prefix (done reads it)
local threads, made = {}, 0

function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  for line in io.lines(args[1] .. "." .. id) do
    local sig, index, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    if sig then
      requests[#requests + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                                         ["X-Hub-Signature-256"] = sig}, body)
      indexes[#indexes + 1] = tonumber(index)
    end
  end
end

function request()
  n = n + 1
  if n > #requests then exhausted = exhausted + 1 end
  local k = (n - 1) % #requests + 1
  if sent[indexes[k]] == nil then sent[indexes[k]] = now() end
  return requests[k]
end

function response(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end

function done(summary, latency, requests)
  local total, again = {}, 0
  local out = nil
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses") or {}) do total[code] = (total[code] or 0) + count end
    again = again + (thread:get("exhausted") or 0)
    local p = thread:get("prefix")
    if out == nil and p then out = io.open(p .. ".sent", "w") end
    if out then
      for index, t in pairs(thread:get("sent") or {}) do out:write(string.format("%d %.6f\n", index, t)) end
    end
  end
  if out then out:close() end
  local parts = {}
  for code, count in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', code, count) end
  io.write('statuses: {' .. table.concat(parts, ", ") .. '}\n')
  io.write('exhausted: ' .. again .. '\n')
end
