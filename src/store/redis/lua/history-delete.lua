--[[ Deletes one channel's messages in a timetoken range (expired or not).
KEYS[1]   msg ZSET (index)
KEYS[2]   body HASH
KEYS[3]   mexp ZSET (expiry index)
KEYS[4]   mexpch: SET of the keyset's channels that have an expiry index
ARGV[1]   lex min: '-' or '[' .. 19-digit timetoken (inclusive)
ARGV[2]   lex max: '[' .. 19-digit timetoken (inclusive)
ARGV[3]   channel name
Returns the number of messages deleted.
]]
local tts = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
for i = 1, #tts, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #tts) do chunk[#chunk + 1] = tts[j] end
  redis.call('HDEL', KEYS[2], unpack(chunk))
  redis.call('ZREM', KEYS[3], unpack(chunk))
end
redis.call('ZREMRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SREM', KEYS[4], ARGV[3]) end
return #tts
