-- SPDX-License-Identifier: MIT
-- wrk script: updates with If-Match of records this thread owns. Thread t
-- owns keys PREFIX-t-1 .. PREFIX-t-PROVCAT_KEYS, created at version 1
-- beforehand (cluster.sh). A key is lent to one request at a time: request()
-- takes the oldest free key and sends If-Match with the version it knows;
-- response() reads "key" and "version" back from the answer and frees the
-- key. wrk calls response() before the next request() of a connection, so
-- with more keys than connections the pool never runs dry. A refused update
-- (non-2xx: wrk counts it) loses its key; an empty pool falls back to
-- creating a fresh key with If-None-Match: *.
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function init(args)
  entry = os.getenv("PROVCAT_ENTRY")
  prefix = os.getenv("PROVCAT_PREFIX") or "u"
  nkeys = tonumber(os.getenv("PROVCAT_KEYS") or "64")
  auth = "Bearer " .. os.getenv("PROVCAT_TOKEN")
  pad = string.rep("y", 190)
  version = {}
  free = {}
  head, tail = 1, 0
  for i = 1, nkeys do
    local k = string.format("%s-%d-%d", prefix, tid, i)
    version[k] = 1
    tail = tail + 1
    free[tail] = k
  end
  fresh = 0
  counter = 0
end

function request()
  local key, h
  counter = counter + 1
  if head <= tail then
    key = free[head]
    free[head] = nil
    head = head + 1
    h = { ["Authorization"] = auth, ["Content-Type"] = "application/json",
          ["If-Match"] = '"' .. version[key] .. '"' }
  else
    fresh = fresh + 1
    key = string.format("%s-%d-new%d", prefix, tid, fresh)
    h = { ["Authorization"] = auth, ["Content-Type"] = "application/json",
          ["If-None-Match"] = "*" }
  end
  local body = '{"name":"bench update ' .. key .. '","n":' .. counter ..
    ',"note":"' .. string.sub(pad, 1, 220 - #key) .. '"}'
  return wrk.format("PUT", "/v1/catalog/" .. entry .. "/records/" .. key,
                    h, body)
end

function response(status, headers, body)
  if status ~= 200 and status ~= 201 then
    return
  end
  local key = string.match(body, '"key":"([^"]+)"')
  local v = tonumber(string.match(body, '"version":(%d+)'))
  if key ~= nil and v ~= nil then
    version[key] = v
    tail = tail + 1
    free[tail] = key
  end
end
