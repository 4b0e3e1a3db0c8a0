-- wrk script: POST /messages with one Jira webhook each, with the bearer
-- token of benches/http_intake.sh. See the README's Figures.
local f = assert(io.open("tests/fixtures/intake/jira_issue_created.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-token"

local accepted, other = 0, 0
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end
