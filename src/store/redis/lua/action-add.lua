--[[ Adds a message action unless its (message, action timetoken) or its (message, type, value, uuid) is taken.
KEYS[1]   act:<channel>: ZSET of `<actionTT19>:<messageTT19>`, scores 0
KEYS[2]   actm:<channel>: ZSET of `<messageTT19>:<actionTT19>`, scores 0
KEYS[3]   actb:<channel>: HASH `<messageTT19>:<actionTT19>` → dedup field
KEYS[4]   actd:<channel>: HASH dedup field → `<messageTT19>:<actionTT19>`
ARGV[1]   `<messageTT19>:<actionTT19>`
ARGV[2]   `<actionTT19>:<messageTT19>`
ARGV[3]   dedup field: JSON [messageTT19, type, value, uuid] (the body, decoded by the caller)
Returns 1 when added, 0 when refused (nothing changed).
]]
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
if redis.call('HSETNX', KEYS[4], ARGV[3], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], 0, ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
