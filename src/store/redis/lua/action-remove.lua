--[[ Removes one message action and every index entry of it.
KEYS[1]   act:<channel>: ZSET of `<actionTT19>:<messageTT19>`
KEYS[2]   actm:<channel>: ZSET of `<messageTT19>:<actionTT19>`
KEYS[3]   actb:<channel>: HASH `<messageTT19>:<actionTT19>` → dedup field
KEYS[4]   actd:<channel>: HASH dedup field → `<messageTT19>:<actionTT19>`
ARGV[1]   `<messageTT19>:<actionTT19>`
ARGV[2]   `<actionTT19>:<messageTT19>`
Returns 1 when it existed, else 0.
]]
local dedup = redis.call('HGET', KEYS[3], ARGV[1])
if not dedup then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], dedup)
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
