--[[ Deletes a file's metadata, bytes and index entry.
KEYS[1]   fmeta:<channel>: HASH id → JSON [name, size, created, contentType]
KEYS[2]   fbytes:<channel>: HASH id → bytes
KEYS[3]   fidx:<channel>: ZSET of `<created> <id>`
ARGV[1]   id
Returns 1 when it existed, else 0.
]]
local meta = redis.call('HGET', KEYS[1], ARGV[1])
if not meta then return 0 end
local created = cjson.decode(meta)[3]
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], created .. ' ' .. ARGV[1])
return 1
