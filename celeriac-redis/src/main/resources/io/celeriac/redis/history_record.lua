-- Writes a batch of task records into the task history (RedisTaskHistory). The merge itself is done
-- by the caller (TaskRecord.merge, in Java): this script writes a record only when the store still
-- holds what the caller merged it with, and otherwise hands back what the store holds now.
-- ARGV[1] = key prefix (celeriac:history:), then per record 4 values:
--   id; what the caller expects stored ('' for nothing, else '=' and the stored value); the score
--   (updated, epoch microseconds); the value (its header names the record's sets).
-- Layout:  PREFIX rec:ID    a string: name, state and worker (escaped, each ending in a newline), then
--                           the whole record, length-prefixed (RedisTaskHistory.encode)
--          PREFIX all       zset id -> updated (epoch microseconds)
--          PREFIX name:N, PREFIX state:S, PREFIX worker:W   zsets id -> updated, per criterion
--          PREFIX ids       zset id -> 0 (ids in byte order, for a prefix search)
-- The sets are written once per batch, one ZADD per set (of at most ZADD_PAIRS members each).
-- Returns {id, value now stored ('' for none), ...} for each record that was not written.
local P = ARGV[1]
local ZADD_PAIRS = 1000
local adds, order = {}, {} -- set key -> {score, id, score, id, ...}, keys in first-use order
local function add(key, score, id)
  local a = adds[key]
  if not a then a = {}; adds[key] = a; order[#order + 1] = key end
  a[#a + 1] = score
  a[#a + 1] = id
end

local conflicts = {}
for i = 2, #ARGV, 4 do
  local id, expected, score, value = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local new = header(value)
  local key = P .. 'rec:' .. id
  local written = false
  if expected == '' then
    local now = redis.call('SET', key, value, 'NX', 'GET')
    if now then
      conflicts[#conflicts + 1] = id
      conflicts[#conflicts + 1] = now
    else
      written = true
    end
  else
    local now = redis.call('GET', key)
    if now and now == string.sub(expected, 2) then
      local old = header(now)
      for k = 1, 3 do
        if old[k] ~= '' and old[k] ~= new[k] then redis.call('ZREM', P .. CRIT[k] .. old[k], id) end
      end
      redis.call('SET', key, value)
      written = true
    else
      conflicts[#conflicts + 1] = id
      conflicts[#conflicts + 1] = now or ''
    end
  end
  if written then
    add(P .. 'all', score, id)
    add(P .. 'ids', 0, id)
    for k = 1, 3 do
      if new[k] ~= '' then add(P .. CRIT[k] .. new[k], score, id) end
    end
  end
end
for _, key in ipairs(order) do
  local a = adds[key]
  for from = 1, #a, 2 * ZADD_PAIRS do
    redis.call('ZADD', key, unpack(a, from, math.min(#a, from + 2 * ZADD_PAIRS - 1)))
  end
end
return conflicts
