-- wrk script of bench/server.py: POST /api/chat {"message": "hello there"}, round-robin over
-- sessions' Bearer tokens (one per line of the file given after --), and a tally of the
-- non-2xx statuses by code. Usage: wrk -s bench/chat.lua URL -- TOKENS_FILE THREADS

local tokens, n = {}, 0
local body = '{"message": "hello there"}'
statuses = {}  -- this thread's non-2xx responses, by status code (a global: done reads it)
local threads, made = {}, 0  -- the main state's list of threads (for done)

function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  -- each thread starts at its own share of the tokens: the threads' requests do not fall
  -- on the same sessions at the same time (gb would queue them on the session's lock)
  n = id * math.floor(#tokens / tonumber(args[2]))
end

function request()
  n = n % #tokens + 1
  return wrk.format("POST", "/api/chat", {["Authorization"] = "Bearer " .. tokens[n],
                                          ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses") or {}) do total[code] = (total[code] or 0) + count end
  end
  local parts = {}
  for code, count in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', code, count) end
  io.write('statuses: {' .. table.concat(parts, ", ") .. '}\n')
end
