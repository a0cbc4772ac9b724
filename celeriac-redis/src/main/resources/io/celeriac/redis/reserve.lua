-- Reserve up to max messages from the queues, in Celery's order (every queue's priority 0-2 list
-- first, then 3-5, 6-8, 9), recording each in flight in kombu's unacked hash with a lease, in one
-- atomic step: a worker killed at any instant loses nothing. Parked messages that came due are
-- moved to their list first, and the node is recorded as a consumer of each queue.
-- ARGV: now_ms, lease_ms, max, visibility_ms, node, queue...
-- Returns: {next_due_ms or -1, queue, tag, deliveries, payload, queue, tag, ...}
local now = tonumber(ARGV[1])
local deadline = now + tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local vis = tonumber(ARGV[4])
local node = ARGV[5]
local nextDue = -1
for i = 6, #ARGV do
  local q = ARGV[i]
  redis.call('ZADD', 'celeriac.consumers.' .. q, deadline, node)
  local dk = 'celeriac.delayed.' .. q
  if redis.call('EXISTS', dk) == 1 then
    unpark(q, now)
    local head = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
    if head[2] then
      local s = tonumber(head[2])
      if nextDue < 0 or s < nextDue then nextDue = s end
    end
  end
end
local out = {nextDue}
local n = 0
local score = (deadline - vis) / 1000
for _, b in ipairs({'0', '3', '6', '9'}) do
  for i = 6, #ARGV do
    local q = ARGV[i]
    local k = key(q, b)
    while n < max do
      local item = redis.call('RPOP', k)
      if not item then break end
      local base = base_tag(item)
      local tag = hold(base, entry(item, q))
      local count = redis.call('HINCRBY', 'celeriac.deliveries', base, 1)
      redis.call('ZADD', 'unacked_index', score, tag)
      out[#out + 1] = q
      out[#out + 1] = tag
      out[#out + 1] = count
      out[#out + 1] = item
      n = n + 1
    end
  end
end
return out
