--[[ Appends messages to one keyset's history; a message with an existing timetoken replaces it.
KEYS[1]                     mexpch: SET of the keyset's channels that have an expiry index
KEYS[3c-1], KEYS[3c],
KEYS[3c+1]                  channel c (c = 1..n): msg ZSET (index), body HASH, mexp ZSET (expiry index)
ARGV[1]                     n, the number of distinct channels
ARGV[1+c]                   name of channel c
ARGV[n+2 ..]                per message, 4 values: channel number c, timetoken (19 digits),
                            body (JSON text), expiresAtMs ('' = never)
Returns the number of messages written. Messages apply in order, so within a batch the later one wins.
]]
local n = tonumber(ARGV[1])
local written = 0
for a = n + 2, #ARGV, 4 do
  local c, tt, body, exp = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  redis.call('ZADD', KEYS[3 * c - 1], 0, tt)
  redis.call('HSET', KEYS[3 * c], tt, body)
  if exp == '' then
    -- A replacement without expiry must not inherit the old row's expiry.
    redis.call('ZREM', KEYS[3 * c + 1], tt)
  else
    redis.call('ZADD', KEYS[3 * c + 1], exp, tt)
    redis.call('SADD', KEYS[1], ARGV[1 + c])
  end
  written = written + 1
end
return written
