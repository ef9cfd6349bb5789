--[[ Adds a message action unless its (message, action timetoken) or its (message, type, value, uuid) is taken.
KEYS[1]   act:<channel>: ZSET of `<actionTT19>:<messageTT19>`, scores 0
KEYS[2]   actm:<channel>: ZSET of `<messageTT19>:<actionTT19>`, scores 0
KEYS[3]   actb:<channel>: HASH `<messageTT19>:<actionTT19>` → dedup field
KEYS[4]   actd:<channel>: HASH dedup field → `<messageTT19>:<actionTT19>`
ARGV[1]   `<messageTT19>:<actionTT19>`
ARGV[2]   `<actionTT19>:<messageTT19>`
ARGV[3]   dedup field: JSON [messageTT19, type, value, uuid] (the body, decoded by the caller)
ARGV[4]   the most actions the message may carry ('inf': no cap)
ARGV[5]   `<messageTT19>:` (the message's prefix in KEYS[2])
Returns 1 when added, 0 when taken, -1 when the message is full (nothing changed either way): the cap is
checked here, so concurrent adds cannot pass it together.
]]
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
if redis.call('HEXISTS', KEYS[4], ARGV[3]) == 1 then return 0 end
if ARGV[4] ~= 'inf' and redis.call('ZLEXCOUNT', KEYS[2], '[' .. ARGV[5], '(' .. string.sub(ARGV[5], 1, -2) .. ';') >= tonumber(ARGV[4]) then return -1 end
redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], 0, ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
