-- Reserve up to max messages from the queues, in Celery's order (every queue's priority 0-2 list
-- first, then 3-5, 6-8, 9), recording each as in flight with a lease, in one atomic step: a worker
-- killed at any instant loses nothing. Parked (ETA) messages that came due are moved first.
-- ARGV: now_ms, lease_ms, max, queue...
-- Returns: {next_due_ms or -1, queue, tag, deliveries, payload, queue, tag, ...}
local now = tonumber(ARGV[1])
local deadline = now + tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local SEP = '\6\22'
local function key(q, b)
  if b == 0 then return q end
  return q .. SEP .. b
end
local nextDue = -1
for i = 4, #ARGV do
  local dk = 'celeriac.delayed.' .. ARGV[i]
  local due = redis.call('ZRANGEBYSCORE', dk, '-inf', now, 'LIMIT', 0, 1000)
  for _, m in ipairs(due) do
    local e = cjson.decode(m)
    redis.call('LPUSH', key(ARGV[i], e.b), e.m)
    redis.call('ZREM', dk, m)
  end
  local head = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
  if head[2] then
    local s = tonumber(head[2])
    if nextDue < 0 or s < nextDue then nextDue = s end
  end
end
local out = {nextDue}
local n = 0
for _, b in ipairs({0, 3, 6, 9}) do
  for i = 4, #ARGV do
    local k = key(ARGV[i], b)
    while n < max do
      local item = redis.call('RPOP', k)
      if not item then break end
      -- The kombu delivery tag names a message across its deliveries; a payload without one is
      -- named by its hash. Deliveries are counted under that name; two copies in flight at once
      -- get distinct tags (name#n).
      local base = string.match(item, '"delivery_tag": ?"([^"]+)"') or ('h:' .. redis.sha1hex(item))
      local tag = base
      if redis.call('HEXISTS', 'celeriac.unacked', tag) == 1 then
        tag = base .. '#' .. redis.call('INCR', 'celeriac.tag_seq')
      end
      local count = redis.call('HINCRBY', 'celeriac.deliveries', base, 1)
      redis.call('HSET', 'celeriac.unacked', tag, b .. '\n' .. ARGV[i] .. '\n' .. item) -- bucket, queue, message
      redis.call('ZADD', 'celeriac.unacked_index', deadline, tag)
      out[#out + 1] = ARGV[i]
      out[#out + 1] = tag
      out[#out + 1] = count
      out[#out + 1] = item
      n = n + 1
    end
  end
end
return out
