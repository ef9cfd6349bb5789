--[[ Stores a file's metadata, bytes and index entry, unless the id is taken.
KEYS[1]   fmeta:<channel>: HASH id → JSON [name, size, created, contentType]
KEYS[2]   fbytes:<channel>: HASH id → bytes
KEYS[3]   fidx:<channel>: ZSET of `<created> <id>`, scores 0
ARGV[1]   id
ARGV[2]   metadata JSON
ARGV[3]   bytes
ARGV[4]   `<created> <id>`
Returns 1 when stored, 0 when a file with that id exists (nothing changed).
]]
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
return 1
