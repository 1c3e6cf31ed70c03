-- SPDX-License-Identifier: MIT
-- wrk script: a grantee reading a conditional entry's records through its
-- grant: linearizable GETs cycling through PROVCAT_KEYS records whose keys
-- are 18-character ID numbers (the same formula as cluster.sh's). Env:
-- PROVCAT_TOKEN (a consumer of the grantee org), PROVCAT_ENTRY,
-- PROVCAT_KEYS. `tid` must be a global: thread:set() sets globals of each
-- thread.
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function key(i)
  return string.format("110101%04d%02d%02d%03d%d", 1950 + i % 50,
                       1 + i % 12, 1 + i % 28, i % 1000, i % 10)
end

function init(args)
  entry = os.getenv("PROVCAT_ENTRY")
  nkeys = tonumber(os.getenv("PROVCAT_KEYS"))
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("PROVCAT_TOKEN")
  counter = tid * 7919
end

function request()
  counter = counter + 1
  return wrk.format("GET", "/v1/catalog/" .. entry .. "/records/" ..
                    key(counter % nkeys))
end
