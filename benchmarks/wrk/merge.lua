-- wrk script for the merge scenario: POST /merge over and over. The harness takes the hold before
-- the clock starts, so every answer should be the busy path (409); wrk counts a 409 as "Non-2xx",
-- so this script counts what would really be wrong (anything but 202 or 409) and prints it for the harness.
wrk.method = "POST"
wrk.body = '{"branch_name": "benchmark/wrk"}'
wrk.headers["Content-Type"] = "application/json"
-- the bearer token POST /merge needs: the harness passes the one the server was started with
local token = os.getenv("MERGE_TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
end

function response(status, headers, body)
  if status ~= 202 and status ~= 409 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("Unexpected responses: %d\n", total))
end
