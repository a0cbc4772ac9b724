-- Drops up to ARGV[4] task history records (RedisTaskHistory): first those updated before
-- ARGV[2] (epoch microseconds), then the oldest beyond ARGV[3] records; from the hash and every set.
-- ARGV[1] = key prefix. Returns {dropped, more}: more = 1 when records to drop remain.
local P, before, max, step = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local function drop(id)
  local key = P .. 'task:' .. id
  local f = redis.call('HMGET', key, 'name', 'state', 'worker')
  if f[1] then redis.call('ZREM', P .. 'name:' .. f[1], id) end
  if f[2] then redis.call('ZREM', P .. 'state:' .. f[2], id) end
  if f[3] then redis.call('ZREM', P .. 'worker:' .. f[3], id) end
  redis.call('ZREM', P .. 'all', id)
  redis.call('ZREM', P .. 'ids', id)
  redis.call('DEL', key)
end
local old = redis.call('ZRANGEBYSCORE', P .. 'all', '-inf', '(' .. before, 'LIMIT', 0, step)
for _, id in ipairs(old) do drop(id) end
if #old == step then return {#old, 1} end
local excess = redis.call('ZCARD', P .. 'all') - max
local n = math.min(excess, step - #old)
if n > 0 then
  local oldest = redis.call('ZRANGE', P .. 'all', 0, n - 1) -- ties in score: the smaller id first
  for _, id in ipairs(oldest) do drop(id) end
  return {#old + #oldest, (excess > n) and 1 or 0}
end
return {#old, 0}
