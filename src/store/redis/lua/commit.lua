--[[ Commits one keyset's part of a publish batch in one atomic step: assigns each message a
timetoken, appends the stored ones to history, and PUBLISHes the whole part to every node. Redis
runs scripts one at a time and delivers PUBLISHes in execution order, so every node receives the
batches in the order they were committed, and each node's timetokens agree with that order.
KEYS[1]                     lasttt: HASH channel -> last timetoken assigned there (19 digits)
KEYS[2]                     mexpch: SET of the keyset's channels that have an expiry index
KEYS[3c], KEYS[3c+1],
KEYS[3c+2]                  channel c (c = 1..n): msg ZSET (index), body HASH, mexp ZSET (expiry index)
ARGV[1]                     nowMs of the committing node, an integer
ARGV[2]                     pub/sub channel of the keyset
ARGV[3]                     the subscribe key as a JSON string
ARGV[4]                     n, the number of distinct channels
ARGV[4+c]                   name of channel c
ARGV[n+5 ..]                per message, 4 values: channel number c, store ('1' or '0'),
                            body (JSON text), expiresAtMs ('' = never)
Returns the timetokens (19-digit strings) in message order.
]]

-- A timetoken (nowMs * 10^4, > 2^53) does not fit a Lua double exactly, so it is kept as
-- hi = its first 12 digits and lo = its last 7, each exact.
local E7 = 10000000
local function parse(tt) return tonumber(string.sub(tt, 1, 12)), tonumber(string.sub(tt, 13)) end
local function text(hi, lo) return string.format('%012d%07d', hi, lo) end

local now = tonumber(ARGV[1])
local nowHi, nowLo = math.floor(now / 1000), (now % 1000) * 10000
local n = tonumber(ARGV[4])
local last = {}
local tts, bodies = {}, {}

for a = n + 5, #ARGV, 4 do
  local c, store, body, exp = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local prev = last[c]
  if prev == nil then
    local stored = redis.call('HGET', KEYS[1], ARGV[4 + c])
    if stored then prev = { parse(stored) } else prev = { -1, 0 } end
  end
  -- max(now, previous + 1): unique and strictly increasing per channel whichever node commits.
  local hi, lo = nowHi, nowLo
  if not (nowHi > prev[1] or (nowHi == prev[1] and nowLo > prev[2])) then
    hi, lo = prev[1], prev[2] + 1
    if lo == E7 then hi, lo = hi + 1, 0 end
  end
  last[c] = { hi, lo }
  local tt = text(hi, lo)
  tts[#tts + 1] = tt
  bodies[#bodies + 1] = body
  if store == '1' then
    redis.call('ZADD', KEYS[3 * c], 0, tt)
    redis.call('HSET', KEYS[3 * c + 1], tt, body)
    if exp == '' then
      redis.call('ZREM', KEYS[3 * c + 2], tt)
    else
      redis.call('ZADD', KEYS[3 * c + 2], exp, tt)
      redis.call('SADD', KEYS[2], ARGV[4 + c])
    end
  end
end

for c, v in pairs(last) do redis.call('HSET', KEYS[1], ARGV[4 + c], text(v[1], v[2])) end
-- message-codec.ts decodeFanout reads this shape: "<tt>,<tt>,...|[<subscribeKey>,[<body>,...]]"
redis.call('PUBLISH', ARGV[2], table.concat(tts, ',') .. '|[' .. ARGV[3] .. ',[' .. table.concat(bodies, ',') .. ']]')
return tts
