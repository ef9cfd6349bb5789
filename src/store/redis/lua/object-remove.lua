--[[ Removes a uuid's or channel's record and every membership on its side, if the memberships are
still the ones the caller read (the other side's keys depend on them, so they must come in KEYS).
KEYS[1]       obj:<kind>: HASH id → record JSON
KEYS[2]       objidx:<kind>: ZSET of the HASH's ids, kept with it
KEYS[3]       the id's own side: mship:<uuid> or mbr:<channel>, HASH other id → membership JSON
KEYS[4]       its index: mshipidx:<uuid> or mbridx:<channel>
KEYS[5..4+n]  the other side's HASH for each of the n candidates, in ARGV[2..] order
KEYS[5+n..]   the other side's index for each candidate, in the same order
ARGV[1]       id
ARGV[2..]     candidate other ids: every field of KEYS[3] when the caller read it
Returns 1 when the record existed, 0 when it did not, -1 (nothing changed) when the memberships
changed since the caller read them: read again and retry.
]]
local candidates = #ARGV - 1
if redis.call('HLEN', KEYS[3]) ~= candidates then return -1 end
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[3], ARGV[i]) == 0 then return -1 end
end
for i = 1, candidates do
  redis.call('HDEL', KEYS[4 + i], ARGV[1])
  redis.call('ZREM', KEYS[4 + candidates + i], ARGV[1])
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
