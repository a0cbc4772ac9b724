-- Merges a batch of task records into the task history (RedisTaskHistory), atomically.
-- ARGV[1] = key prefix (celeriac:history:), then per record its id, which FIELDS it has (a character each, in
-- FIELDS order: '1' a value, '0' null), and one value per FIELDS entry in that order ('' for null; timeline and
-- children as JSON text). The merge is
-- TaskRecord.merge's, in Lua; a record new to the store is written without decoding anything.
-- Layout:  PREFIX task:ID   hash of the record's fields
--          PREFIX all       zset id -> updated (epoch microseconds)
--          PREFIX name:N, PREFIX state:S, PREFIX worker:W   zsets id -> updated, per criterion
--          PREFIX ids       zset id -> 0 (ids in byte order, for a prefix search)
-- The sets are written once per batch, one ZADD per set (of at most ZADD_PAIRS members each).
local P = ARGV[1]
local FIELDS = {'name', 'state', 'worker', 'queue', 'args', 'kwargs', 'result', 'exception', 'traceback', 'retries',
  'received', 'started', 'updated', 'runtime', 'parent_id', 'root_id', 'group_id', 'children', 'timeline'}
local INDEXED = {'name', 'state', 'worker'}

local function ready(s) return s == 'SUCCESS' or s == 'FAILURE' or s == 'REVOKED' end
local function replaces(nxt, stored) return stored ~= 'SUCCESS' and (ready(nxt) or not ready(stored)) end
local function list(text)
  if text == nil or text == '' then return {} end
  return cjson.decode(text)
end
local function val(v) if v == cjson.null then return nil end return v end
local function at_less(a, b) -- epoch microseconds as decimal strings
  if #a ~= #b then return #a < #b end
  return a < b
end

local function join_timelines(a, b)
  local seen, steps = {}, {}
  for _, t in ipairs({a, b}) do
    for _, s in ipairs(t) do
      local k = tostring(s.state) .. '\0' .. tostring(s.at) .. '\0' .. tostring(val(s.worker)) .. '\0'
        .. tostring(s.retries) .. '\0' .. tostring(val(s.detail))
      if not seen[k] then
        seen[k] = true
        steps[#steps + 1] = {s = s, i = #steps + 1}
      end
    end
  end
  table.sort(steps, function(x, y)
    if x.s.at ~= y.s.at then return at_less(x.s.at, y.s.at) end
    return x.i < y.i
  end)
  local out = {}
  for i, e in ipairs(steps) do out[i] = e.s end
  return out
end

local function join_children(a, b)
  local seen, out = {}, {}
  for _, t in ipairs({a, b}) do
    for _, c in ipairs(t) do
      if not seen[c] then seen[c] = true; out[#out + 1] = c end
    end
  end
  return out
end

local function merge(stored, nxt)
  local next_newer = tonumber(nxt.updated) >= tonumber(stored.updated)
  local newer, older = nxt, stored
  if not next_newer then newer, older = stored, nxt end
  local won, lost = older, newer
  if replaces(newer.state, older.state) then won, lost = newer, older end
  local m = {}
  for _, f in ipairs({'name', 'worker', 'queue', 'args', 'kwargs', 'started', 'parent_id', 'root_id', 'group_id'}) do
    m[f] = newer[f] or older[f]
  end
  m.state = won.state
  for _, f in ipairs({'result', 'exception', 'traceback', 'runtime'}) do
    m[f] = won[f] or lost[f]
  end
  m.retries = tostring(math.max(tonumber(stored.retries or '0'), tonumber(nxt.retries or '0')))
  if stored.received and nxt.received then
    m.received = at_less(nxt.received, stored.received) and nxt.received or stored.received
  else
    m.received = stored.received or nxt.received
  end
  m.updated = newer.updated
  local children = join_children(list(stored.children), list(nxt.children))
  if #children > 0 then m.children = cjson.encode(children) end
  local timeline = join_timelines(list(stored.timeline), list(nxt.timeline))
  if #timeline > 0 then m.timeline = cjson.encode(timeline) end
  return m
end

local NF = #FIELDS
local ZADD_PAIRS = 1000
local adds, order = {}, {} -- set key -> {score, id, score, id, ...}, keys in first-use order
local function add(key, score, id)
  local a = adds[key]
  if not a then a = {}; adds[key] = a; order[#order + 1] = key end
  a[#a + 1] = score
  a[#a + 1] = id
end

local n = 0
for i = 2, #ARGV, NF + 2 do
  n = n + 1
  local id, has = ARGV[i], ARGV[i + 1]
  local rec = {}
  for k = 1, NF do
    if string.byte(has, k) == 49 then rec[FIELDS[k]] = ARGV[i + 1 + k] end
  end
  local key = P .. 'task:' .. id
  local flat = redis.call('HGETALL', key)
  local m = rec
  if #flat > 0 then
    local stored = {}
    for j = 1, #flat, 2 do stored[flat[j]] = flat[j + 1] end
    m = merge(stored, rec)
    for _, f in ipairs(INDEXED) do
      if stored[f] and stored[f] ~= m[f] then redis.call('ZREM', P .. f .. ':' .. stored[f], id) end
    end
  end
  local args = {}
  for _, f in ipairs(FIELDS) do
    if m[f] ~= nil then args[#args + 1] = f; args[#args + 1] = m[f] end
  end
  redis.call('HSET', key, unpack(args))
  local score = m.updated
  add(P .. 'all', score, id)
  add(P .. 'ids', 0, id)
  for _, f in ipairs(INDEXED) do
    if m[f] then add(P .. f .. ':' .. m[f], score, id) end
  end
end
-- ids are unique in a batch (the caller merges them first), so a stale set entry was removed above
for _, key in ipairs(order) do
  local a = adds[key]
  for from = 1, #a, 2 * ZADD_PAIRS do
    redis.call('ZADD', key, unpack(a, from, math.min(#a, from + 2 * ZADD_PAIRS - 1)))
  end
end
return n
