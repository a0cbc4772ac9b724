-- Shared by every Celeriac script (prepended when the script is loaded).
--
-- Layout (kombu's, so Python Celery workers see everything Celeriac holds):
--   QUEUE, QUEUE\x06\x163, \x06\x166, \x06\x169   kombu's lists per priority bucket (LPUSH, RPOP)
--   unacked            hash tag -> [envelope, exchange, routing_key]: kombu's in-flight record
--   unacked_index      zset tag -> seconds: kombu restores an entry to its list once its score is
--                      below now - visibility_timeout. Celeriac writes its in-flight messages with
--                      score = lease end - visibility, and its parked (ETA) ones with
--                      score = due time - visibility: a Python worker's restore then hands back a
--                      dead Celeriac worker's messages when its lease runs out, and parked ones when
--                      they come due, with no Celeriac process left.
--   celeriac.delayed.QUEUE   zset "bucket:tag" -> due ms: Celeriac's index of its parked messages
--   celeriac.delayed_queues  set of queues with parked messages
--   celeriac.consumers.QUEUE zset node -> lease end ms: Celeriac workers consuming the queue
--   celeriac.deliveries      hash tag -> deliveries so far (poison-message detection)
local SEP = '\6\22'

local function key(q, b)
  if b == nil or b == '0' or b == 0 then return q end
  return q .. SEP .. b
end

-- kombu's priority buckets: 0-2, 3-5, 6-8, 9
local function bucket(p)
  p = tonumber(p) or 0
  if p >= 9 then return '9' elseif p >= 6 then return '6' elseif p >= 3 then return '3' end
  return '0'
end

-- The bucket of an envelope: its properties.priority, the last unescaped "priority" key (the
-- properties follow the headers in kombu's and Celeriac's envelopes; a plain body's are escaped).
local function bucket_of(item)
  local p = nil
  for v in string.gmatch(item, '[^\\]"priority": ?(%d+)') do p = v end
  return bucket(p)
end

-- The name a message is tracked by across deliveries: its kombu delivery tag, or its hash.
local function base_tag(item)
  return string.match(item, '"delivery_tag": ?"([^"]+)"') or ('h:' .. redis.sha1hex(item))
end

-- A tag no in-flight entry has yet (two copies of one message in flight get name#n).
local function fresh_tag(base)
  if redis.call('HEXISTS', 'unacked', base) == 0 then return base end
  return base .. '#' .. redis.call('INCR', 'celeriac.tag_seq')
end

local function entry(item, q)
  return '[' .. item .. ', "", ' .. cjson.encode(q) .. ']'
end

-- The envelope and queue of an unacked entry: kombu's [envelope, exchange, routing_key].
local function item_of(e)
  local item, q = string.match(e, '^%[(.*), "[^"]*", (".*")%]$')
  if item then return item, cjson.decode(q) end
  local ok, arr = pcall(cjson.decode, e) -- another writer's spacing: re-encoded (Python's entries)
  if ok and type(arr) == 'table' and type(arr[1]) == 'table' then
    return cjson.encode(arr[1]), arr[3]
  end
  return nil, nil
end

local function forget(tag)
  redis.call('HDEL', 'unacked', tag)
  redis.call('ZREM', 'unacked_index', tag)
end

-- Parks a message until due_ms (countdown, ETA, a retry's back-off).
local function park(q, b, due_ms, item, vis_ms)
  local tag = fresh_tag(base_tag(item))
  redis.call('HSET', 'unacked', tag, entry(item, q))
  redis.call('ZADD', 'unacked_index', (tonumber(due_ms) - tonumber(vis_ms)) / 1000, tag)
  redis.call('ZADD', 'celeriac.delayed.' .. q, due_ms, b .. ':' .. tag)
  redis.call('SADD', 'celeriac.delayed_queues', q)
end

-- Moves parked messages of q back to its list (those due by until_ms, or all of them, 10,000 at a
-- time: a bigger set goes over several calls rather than block Redis), at the consuming end: a due
-- one runs next; one not yet due is held again by whichever worker takes it.
local function unpark(q, until_ms)
  local dk = 'celeriac.delayed.' .. q
  local members
  if until_ms then
    members = redis.call('ZRANGEBYSCORE', dk, '-inf', until_ms, 'LIMIT', 0, 1000)
  else
    members = redis.call('ZRANGE', dk, 0, 9999)
  end
  local n = 0
  for _, m in ipairs(members) do
    if string.sub(m, 1, 1) == '{' then -- parked by an earlier Celeriac: {"b": bucket, "m": message}
      local e = cjson.decode(m)
      redis.call('RPUSH', key(q, tostring(e.b)), e.m)
      n = n + 1
    else
      local b, tag = string.match(m, '^(%d):(.*)$')
      local e = tag and redis.call('HGET', 'unacked', tag)
      if e then
        local item = item_of(e)
        if item then
          redis.call('RPUSH', key(q, b), item)
          n = n + 1
        end
        forget(tag)
      end
    end
    redis.call('ZREM', dk, m)
  end
  if redis.call('EXISTS', dk) == 0 then redis.call('SREM', 'celeriac.delayed_queues', q) end
  return n
end

-- Publishes one message: parked when it has a due time, else on its list (and a wake-up).
local function publish(q, b, due_ms, item, vis_ms)
  if due_ms and due_ms ~= '' then
    park(q, b, due_ms, item, vis_ms)
  else
    redis.call('LPUSH', key(q, b), item)
    redis.call('PUBLISH', 'celeriac.wake', q)
  end
end

local READY = { SUCCESS = true, FAILURE = true, REVOKED = true }

-- Stores a result unless a SUCCESS is stored (a duplicate run cannot replace it) or it is not ready
-- (STARTED, RETRY, progress) and a ready one is stored, and PUBLISHes it on the key's channel, which
-- wakes waiting AsyncResult.get() calls (Celery's and Celeriac's). "status" is the first field of
-- both Celery's and Celeriac's result JSON.
local function store(id, json, px)
  local k = 'celery-task-meta-' .. id
  local old = redis.call('GET', k)
  local was = old and string.match(old, '"status": ?"([^"]*)"')
  if not (was == 'SUCCESS' or (READY[was] and not READY[string.match(json, '"status": ?"([^"]*)"')])) then
    redis.call('SET', k, json, 'PX', px)
    redis.call('PUBLISH', k, json)
  end
end

-- Acks an in-flight message; false when it is no longer in flight (acked already). HDEL's count
-- says whether it was there: no HEXISTS first.
local function ack(tag)
  if redis.call('HDEL', 'unacked', tag) == 0 then return false end
  redis.call('ZREM', 'unacked_index', tag)
  redis.call('HDEL', 'celeriac.deliveries', string.match(tag, '^([^#]*)'))
  return true
end

-- Records item in flight under a tag no in-flight entry has yet (fresh_tag's, in one HSETNX when
-- the base tag is free, as it nearly always is); returns the tag.
local function hold(base, value)
  if redis.call('HSETNX', 'unacked', base, value) == 1 then return base end
  local tag = base .. '#' .. redis.call('INCR', 'celeriac.tag_seq')
  redis.call('HSET', 'unacked', tag, value)
  return tag
end
