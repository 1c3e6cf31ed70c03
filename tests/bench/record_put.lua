-- SPDX-License-Identifier: MIT
-- wrk script: each request creates a NEW record (PUT with If-None-Match: *)
-- holding a ~256-byte JSON document. Env: PROVCAT_TOKEN (a provider of the
-- entry's org), PROVCAT_ENTRY, PROVCAT_PREFIX (keeps runs' keys apart).
-- `tid` must be a global: thread:set() sets globals of each thread.
local counter = 0
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function init(args)
  entry = os.getenv("PROVCAT_ENTRY")
  prefix = os.getenv("PROVCAT_PREFIX") or "b"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("PROVCAT_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["If-None-Match"] = "*"
  pad = string.rep("x", 190)
end

-- About 256 bytes: {"name":"...","n":...,"note":"xxx..."}
function doc(id, n)
  return '{"name":"bench record ' .. id .. '","n":' .. n ..
    ',"note":"' .. string.sub(pad, 1, 220 - #id) .. '"}'
end

function request()
  counter = counter + 1
  local key = string.format("%s-%d-%d", prefix, tid, counter)
  return wrk.format("PUT", "/v1/catalog/" .. entry .. "/records/" .. key,
                    nil, doc(key, counter))
end
