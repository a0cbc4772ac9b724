-- Drops up to ARGV[4] task history records (RedisTaskHistory): first those updated before
-- ARGV[2] (epoch microseconds), then the oldest beyond ARGV[3] records; the record and its entry in every set.
-- ARGV[1] = key prefix. Returns {dropped, more}: more = 1 when records to drop remain.
local P, before, max, step = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local function drop(id)
  local key = P .. 'rec:' .. id
  local v = redis.call('GET', key)
  local f = {}
  if v then
    f = header(v)
  else -- a record of the layout before (a hash of its fields, task:ID): its entries go too
    local legacy = P .. 'task:' .. id
    local h = redis.call('HMGET', legacy, 'name', 'state', 'worker')
    for k = 1, 3 do f[k] = h[k] or '' end
    redis.call('DEL', legacy)
  end
  for k = 1, 3 do
    if f[k] and f[k] ~= '' then redis.call('ZREM', P .. CRIT[k] .. f[k], id) end
  end
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
