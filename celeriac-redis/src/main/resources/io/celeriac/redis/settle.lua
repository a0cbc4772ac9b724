-- Commit a batch of settlements (what finishing messages causes), each as one atomic step:
-- the delivery's ack (a settlement whose delivery is no longer in flight was settled already,
-- and is skipped whole: nothing it causes is published twice), chord sizes, messages (ready ones
-- LPUSHed, due ones parked), results, and chord parts, counted in Celery's Redis backend's own
-- keys (celery-taskset-meta-GID.j zset by group_index, .s size, .t extra), so a chord whose header
-- runs on Python and Celeriac workers at once completes; the part that completes a chord starts
-- its body (or fails it with ChordError) from the templates the worker made.
-- ARGV: now_ms, result_expires_ms, visibility_ms, batch JSON, then a triple per settlement, in order:
--   tag ('' for none), task id ('' for no result), result JSON: a plain settlement, read without
--   decoding any JSON; or "\0", n, '': the batch JSON's nth settlement:
--   [{"tag", "sizes": {gid: n}, "pubs": [pub], "results": [[id, json]], "parts": [part]}]
--   pub:  {"q", "b", "due" (ms, or absent), "p" (payload) | "pre", "mid", "post" (around the results,
--          once in the body and once in the argsrepr header)}
--   part: {"g" gid, "i" index (or absent), "t" task id, "e" join entry,
--          "done": {"sizes", "pubs", "results"}, "fail": {"pubs", "results": [[id, pre, post]]}}
local now = ARGV[1]
local px = tonumber(ARGV[2])
local vis = ARGV[3]
local batch = ARGV[4] ~= '[]' and cjson.decode(ARGV[4]) or {}
local ex = math.max(1, math.floor(px / 1000))

-- text as the inside of a JSON string
local function esc(s)
  local e = cjson.encode(s)
  return string.sub(e, 2, -2)
end

local function pubs(list, fill)
  for _, p in ipairs(list or {}) do
    local item = p.p
    if item == nil then
      local f = esc(fill)
      item = p.pre .. f .. p.mid .. f .. p.post
    end
    publish(p.q, p.b, p.due and tostring(p.due) or '', item, vis)
  end
end

local function sizes(map)
  for g, n in pairs(map or {}) do
    local k = 'celery-taskset-meta-' .. g .. '.s'
    redis.call('SETEX', k, ex, tostring(n))
  end
end

-- Python's repr of a stored exception: ValueError('boom')
local function repr(result)
  local ok, r = pcall(cjson.decode, result)
  if not ok or type(r) ~= 'table' then return tostring(result) end
  local args = {}
  local msg = r.exc_message
  if type(msg) ~= 'table' then msg = {msg} end
  for _, a in ipairs(msg) do
    if type(a) == 'string' then
      args[#args + 1] = "'" .. string.gsub(string.gsub(a, '\\', '\\\\'), "'", "\\'") .. "'"
    else
      args[#args + 1] = tostring(a)
    end
  end
  return tostring(r.exc_type or 'Exception') .. '(' .. table.concat(args, ', ') .. ')'
end

local function part(p)
  local jkey = 'celery-taskset-meta-' .. p.g .. '.j'
  local tkey = 'celery-taskset-meta-' .. p.g .. '.t'
  local skey = 'celery-taskset-meta-' .. p.g .. '.s'
  local idx = p.i or '+inf'
  -- a part is counted once, whoever ran it and however often
  for _, e in ipairs(redis.call('ZRANGEBYSCORE', jkey, idx, idx)) do
    if string.find(e, '"' .. p.t .. '"', 1, true) then return end
  end
  redis.call('ZADD', jkey, idx, p.e)
  local count = redis.call('ZCARD', jkey)
  redis.call('EXPIRE', jkey, ex)
  redis.call('EXPIRE', tkey, ex)
  redis.call('EXPIRE', skey, ex)
  local size = redis.call('GET', skey)
  if not size then return end
  local total = tonumber(size) + (tonumber(redis.call('GET', tkey) or '0') or 0)
  if count ~= total then return end
  local values = {}
  local failed = nil
  for _, e in ipairs(redis.call('ZRANGE', jkey, 0, -1)) do
    local tid, state, result = string.match(e, '^%[%s*1%s*,%s*"([^"]*)"%s*,%s*"([^"]*)"%s*,%s*(.*)%]%s*$')
    if state == 'FAILURE' or state == 'REVOKED' then
      failed = 'Dependency ' .. tid .. ' raised ' .. repr(result)
      break
    end
    values[#values + 1] = result or 'null'
  end
  if failed then
    pubs(p.fail.pubs, nil)
    sizes(p.fail.sizes)
    for _, r in ipairs(p.fail.results or {}) do
      store(r[1], r[2] .. esc(failed) .. r[3], px)
    end
  else
    pubs(p.done.pubs, '[' .. table.concat(values, ', ') .. ']')
    sizes(p.done.sizes)
    for _, r in ipairs(p.done.results or {}) do
      store(r[1], r[2], px)
    end
  end
  redis.call('DEL', jkey, tkey, skey)
end

local applied = 0
for i = 5, #ARGV, 3 do
  local tag = ARGV[i]
  if tag == '\0' then
    local s = batch[tonumber(ARGV[i + 1])]
    if s.tag == nil or ack(s.tag) then
      sizes(s.sizes)
      pubs(s.pubs, nil)
      for _, r in ipairs(s.results or {}) do
        store(r[1], r[2], px)
      end
      for _, p in ipairs(s.parts or {}) do
        part(p)
      end
      applied = applied + 1
    end
  elseif tag == '' or ack(tag) then
    if ARGV[i + 1] ~= '' then
      store(ARGV[i + 1], ARGV[i + 2], px)
    end
    applied = applied + 1
  end
end
return applied
