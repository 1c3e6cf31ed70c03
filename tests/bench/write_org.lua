-- SPDX-License-Identifier: MIT
-- wrk script: each request creates a new org (a small replicated write).
-- `tid` must be a global: thread:set() sets globals of each thread.
local counter = 0
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function init(args)
  token = os.getenv("PROVCAT_TOKEN")
  prefix = os.getenv("PROVCAT_PREFIX") or "b"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", prefix, tid, counter)
  local body = '{"id":"' .. id .. '","name":"Bench org ' .. id ..
    '","level":"county","kind":"institution","parent":"authority"}'
  return wrk.format("POST", "/v1/orgs", nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
    errors = (errors or 0) + 1
  end
end
