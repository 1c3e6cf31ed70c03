-- SPDX-License-Identifier: MIT
-- wrk script: authenticated reads of one org (linearizable unless the
-- path given on the command line asks for consistency=stale).
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("PROVCAT_TOKEN")
end
