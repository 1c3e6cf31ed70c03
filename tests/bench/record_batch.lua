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
end

function request()
  local items = {}
  for i = 1, size do
    counter = counter + 1
    local key = string.format("%s-%d-%d", prefix, tid, counter)
    items[i] = '{"key":"' .. key .. '","value":{"name":"bench batch ' .. key ..
      '","n":' .. counter .. ',"note":"' .. string.sub(pad, 1, 220 - #key) ..
      '"}}'
  end
  return wrk.format("POST", "/v1/catalog/" .. entry .. "/records:batch", nil,
                    '{"records":[' .. table.concat(items, ",") .. ']}')
end
