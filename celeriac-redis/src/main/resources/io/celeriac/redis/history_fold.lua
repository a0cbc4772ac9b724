-- One step of indexing the task history's log (RedisTaskHistory.fold). A worker records a batch as one
-- element of the list PREFIX log (no index touched); a folder takes the oldest elements under a lease,
-- merges their records into the indexed layout (history_record.lua), and in its next step trims them.
-- ARGV[1] = key prefix (celeriac:history:), ARGV[2] = the folder's owner token, ARGV[3] = lease ms,
-- ARGV[4] = how many elements from the head the folder has indexed since its last step (0 at first),
-- ARGV[5] = how many to take now, ARGV[6] = '1' to take the lease even from another holder (a reader that
-- waited long enough for it: the other, if alive, finds it gone at its next step and stops without trimming).
-- Returns {1, element, ...} with the elements to index now; {0} when the log is empty (the lease is let go);
-- {-1} when another folder holds the lease (nothing trimmed, nothing taken); {-2} when this folder's lease ran
-- out since its last step (nothing trimmed: what it indexed stays in the log and is indexed again, which the
-- merge makes harmless; another folder may have trimmed meanwhile, so the head may no longer be what it took).
local P, owner, lease, done, take, steal = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1'
local logKey, leaseKey = P .. 'log', P .. 'folding'
local holder = redis.call('GET', leaseKey)
if holder and holder ~= owner and not steal then
  return {-1} -- another folder has it; a step of ours whose lease ran out is done again by it (merging is idempotent)
end
if done > 0 then
  if holder ~= owner then return {-2} end
  redis.call('LTRIM', logKey, done, -1) -- only a lease holder trims, so the head is still what this one took
end
if redis.call('LLEN', logKey) == 0 then
  if holder == owner then redis.call('DEL', leaseKey) end
  return {0}
end
redis.call('SET', leaseKey, owner, 'PX', lease)
local out = redis.call('LRANGE', logKey, 0, take - 1)
table.insert(out, 1, 1)
return out
