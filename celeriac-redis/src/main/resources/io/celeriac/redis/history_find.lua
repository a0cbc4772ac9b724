-- One page of the task history (RedisTaskHistory.find), newest first: (updated desc, id desc).
-- ARGV: 1 key prefix, 2 how many to return at most, 3 the highest score ('+inf', 'N' or '(N'),
-- 4 the lowest score ('-inf' or 'N'), 5 the cursor's score or '', 6 the cursor's id or '',
-- 7 name, 8 state, 9 worker (each '=VALUE', or '' for any), 10 id prefix ('=P' or ''),
-- 11 the first id above the prefix ('=U' or ''), 12 the most entries one call examines.
-- The entries come off one sorted set: the smallest of the criteria's sets (or 'all'), read from
-- the cursor on by rank, so no set is scanned from its start; an id prefix with few ids is read
-- from the lexical set 'ids' instead. Other criteria are checked on the records' headers (name, state, worker).
-- Returns {resume id, resume score, id, value, id, value, ...} (value false when the record went meanwhile); resume is '' unless the call
-- stopped at its budget before filling the page (the caller goes on from there).
local P, want = ARGV[1], tonumber(ARGV[2])
local maxs, mins, cscore, cid = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local budget = tonumber(ARGV[12])
local function opt(v) if v == '' then return nil end return string.sub(v, 2) end
local crit = {}
for i, f in ipairs({'name', 'state', 'worker'}) do
  local v = opt(ARGV[6 + i])
  if v then crit[#crit + 1] = {f, v} end
end
local prefix, upper = opt(ARGV[10]), opt(ARGV[11])
local cnum = tonumber(cscore)

local function within(sc)
  if mins ~= '-inf' and sc < tonumber(mins) then return false end
  if maxs == '+inf' then return true end
  if string.sub(maxs, 1, 1) == '(' then return sc < tonumber(string.sub(maxs, 2)) end
  return sc <= tonumber(maxs)
end
local function after_cursor(id, sc)
  return cnum == nil or sc < cnum or (sc == cnum and id < cid)
end

-- the driving set: the smallest criterion's
local driver, dfield = P .. 'all', nil
local best = redis.call('ZCARD', driver)
for _, c in ipairs(crit) do
  local k = P .. c[1] .. ':' .. c[2]
  local n = redis.call('ZCARD', k)
  if n == 0 then return {'', ''} end
  if n < best then driver, dfield, best = k, c[1], n end
end

local AT = {name = 1, state = 2, worker = 3}
local function passes(id)
  if prefix and string.sub(id, 1, #prefix) ~= prefix then return false end
  local got
  for _, c in ipairs(crit) do
    if c[1] ~= dfield then
      if not got then
        local v = redis.call('GET', P .. 'rec:' .. id)
        if not v then return false end
        got = header(v)
      end
      if got[AT[c[1]]] ~= c[2] then return false end
    end
  end
  return true
end

local function reply(found, rid, rscore)
  local out = {rid or '', rscore or ''}
  for _, e in ipairs(found) do
    out[#out + 1] = e[1]
    out[#out + 1] = redis.call('GET', P .. 'rec:' .. e[1])
  end
  return out
end

-- a prefix few ids have: those ids, sorted here
if prefix then
  local hi = '+'
  if upper then hi = '(' .. upper end
  local n = redis.call('ZLEXCOUNT', P .. 'ids', '[' .. prefix, hi)
  if n == 0 then return {'', ''} end
  if n <= 2000 and n < best then
    dfield = nil
    local ids = redis.call('ZRANGEBYLEX', P .. 'ids', '[' .. prefix, hi)
    local scores = redis.call('ZMSCORE', P .. 'all', unpack(ids))
    local found = {}
    for i, id in ipairs(ids) do
      local sc = tonumber(scores[i])
      if sc and within(sc) and after_cursor(id, sc) and passes(id) then found[#found + 1] = {id, sc} end
    end
    table.sort(found, function(a, b)
      if a[2] ~= b[2] then return a[2] > b[2] end
      return a[1] > b[1]
    end)
    local page = {}
    for i = 1, math.min(want, #found) do page[i] = found[i] end
    return reply(page)
  end
end

-- start right after the cursor: its rank among the entries of its score
local offset = 0
if cid ~= '' and maxs == cscore then
  local s = redis.call('ZSCORE', driver, cid)
  if s and tonumber(s) == cnum then
    local rank = redis.call('ZREVRANK', driver, cid)
    local above = redis.call('ZCOUNT', driver, '(' .. cscore, '+inf')
    offset = rank - above + 1
  end
end
local found, examined = {}, 0
local last_id, last_score
while #found < want do
  if examined >= budget then return reply(found, last_id, last_score) end
  local chunk = redis.call('ZREVRANGEBYSCORE', driver, maxs, mins, 'WITHSCORES', 'LIMIT', offset, math.max(want - #found, 100))
  if #chunk == 0 then break end
  for j = 1, #chunk, 2 do
    local id, sc = chunk[j], tonumber(chunk[j + 1])
    examined = examined + 1
    last_id, last_score = id, chunk[j + 1]
    if after_cursor(id, sc) and passes(id) then
      found[#found + 1] = {id, sc}
      if #found == want then break end
    end
  end
  offset = offset + #chunk / 2
end
return reply(found)
