-- Deliver again what dead consumers held: our in-flight messages whose lease ran out, and kombu's
-- unacked messages (Python consumers') older than the visibility timeout, as kombu's own restore
-- does. Each goes back to the head of its list. Atomic, so several workers may run it at once.
-- ARGV: now_ms, visibility_timeout_ms
local now = tonumber(ARGV[1])
local SEP = '\6\22'
local n = 0
local expired = redis.call('ZRANGEBYSCORE', 'celeriac.unacked_index', '-inf', now, 'LIMIT', 0, 1000)
for _, tag in ipairs(expired) do
  local e = redis.call('HGET', 'celeriac.unacked', tag)
  if e then
    local b, q, m = string.match(e, '^(%d)\n([^\n]*)\n(.*)$')
    local k = q
    if b ~= '0' then k = q .. SEP .. b end
    redis.call('RPUSH', k, m)
    n = n + 1
  end
  redis.call('HDEL', 'celeriac.unacked', tag)
  redis.call('ZREM', 'celeriac.unacked_index', tag)
end
local stale = redis.call('ZRANGEBYSCORE', 'unacked_index', '-inf', (now - tonumber(ARGV[2])) / 1000, 'LIMIT', 0, 1000)
for _, tag in ipairs(stale) do
  local v = redis.call('HGET', 'unacked', tag)
  if v then
    local ok, arr = pcall(cjson.decode, v)
    if ok and type(arr) == 'table' and type(arr[1]) == 'table' then
      local env = arr[1]
      if type(env.headers) == 'table' then env.headers.redelivered = true end
      if type(env.properties) == 'table' and type(env.properties.delivery_info) == 'table' then
        env.properties.delivery_info.redelivered = true
      end
      redis.call('RPUSH', arr[3], cjson.encode(env))
      n = n + 1
    end
  end
  redis.call('HDEL', 'unacked', tag)
  redis.call('ZREM', 'unacked_index', tag)
end
return n
