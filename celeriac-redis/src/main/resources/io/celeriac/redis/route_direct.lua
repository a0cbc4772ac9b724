-- Deliver to a kombu direct exchange as kombu's virtual transport does: LPUSH to every queue bound
-- with this routing key in _kombu.binding.<exchange> (members "routing_key\x06\x16pattern\x06\x16queue").
-- ARGV: exchange, routing_key, payload
local sep = '\6\22'
local n = 0
for _, b in ipairs(redis.call('SMEMBERS', '_kombu.binding.' .. ARGV[1])) do
  local rk, _, queue = string.match(b, '^(.-)' .. sep .. '(.-)' .. sep .. '(.*)$')
  if rk == ARGV[2] and queue and queue ~= '' then
    redis.call('LPUSH', queue, ARGV[3])
    n = n + 1
  end
end
return n
