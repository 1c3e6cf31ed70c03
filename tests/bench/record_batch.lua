-- SPDX-License-Identifier: MIT
-- wrk script: POST records:batch of PROVCAT_BATCH (default 100) new records
-- of ~256 bytes each per request.
local counter = 0
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function init(args)
  entry = os.getenv("PROVCAT_ENTRY")
  prefix = os.getenv("PROVCAT_PREFIX") or "bb"
  size = tonumber(os.getenv("PROVCAT_BATCH") or "100")
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("PROVCAT_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
  pad = string.rep("z", 190)
  path = "/v1/catalog/" .. entry .. "/records:batch"
end

-- The body is built as one table.concat of fragments: LuaJIT interns every
-- string it makes, so a string per item (and per concatenation) cost wrk
-- 2.5x the CPU, taken from the nodes on a two-core machine.
local parts = {}
local notes = {}

function request()
  local kp = prefix .. "-" .. tid .. "-"
  local n = 1
  parts[1] = '{"records":['
  for i = 1, size do
    counter = counter + 1
    local key = kp .. counter
    local note = notes[#key]
    if note == nil then
      note = string.sub(pad, 1, 220 - #key)
      notes[#key] = note
    end
    parts[n + 1] = i == 1 and '{"key":"' or ',{"key":"'
    parts[n + 2] = key
    parts[n + 3] = '","value":{"name":"bench batch '
    parts[n + 4] = key
    parts[n + 5] = '","n":'
    parts[n + 6] = counter
    parts[n + 7] = ',"note":"'
    parts[n + 8] = note
    parts[n + 9] = '"}}'
    n = n + 9
  end
  parts[n + 1] = ']}'
  return wrk.format("POST", path, nil, table.concat(parts, "", 1, n + 1))
end
