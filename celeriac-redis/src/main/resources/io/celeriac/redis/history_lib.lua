-- What the task history's scripts share (loaded before each of them): a stored record's header.
-- A record (RedisTaskHistory.encode) starts with its name, state and worker, each escaped ('\' as
-- '\\', a newline as '\n') and ending in a newline; '' for none.
local function header(v)
  local a = string.find(v, '\n', 1, true)
  local b = string.find(v, '\n', a + 1, true)
  local c = string.find(v, '\n', b + 1, true)
  return {string.sub(v, 1, a - 1), string.sub(v, a + 1, b - 1), string.sub(v, b + 1, c - 1)}
end
-- the sets of the three criteria, in the header's order
local CRIT = {'name:', 'state:', 'worker:'}
