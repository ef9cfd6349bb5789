--[[ Commits one keyset's part of a publish batch in one atomic step: assigns each message a
timetoken, appends the stored ones to history, and PUBLISHes the whole part to every node. Redis
runs scripts one at a time and delivers PUBLISHes in execution order, so every node receives the
batches in the order they were committed, and the timetokens follow that order (docs/redis.md §Ordering):
each one is max(nowMs of the committing node * 10^4, Redis's TIME in 100 ns units, last + 1), with
`last` the keyset's last timetoken, so within the keyset every timetoken is greater than every one
committed before it, and greater than any handshake cut read earlier (RedisBroker.handshakeTimetoken).
KEYS[1]                     last: STRING, the keyset's last timetoken assigned (19 digits)
KEYS[2]                     lasttt: HASH channel -> last timetoken, the per-channel form before `last`;
                            folded into `last` and deleted by the first commit that finds no `last`
KEYS[3]                     mexpch: SET of the keyset's channels that have an expiry index
KEYS[3c+1], KEYS[3c+2],
KEYS[3c+3]                  channel c (c = 1..n): msg ZSET (index), body HASH, mexp ZSET (expiry index)
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
local function above(aHi, aLo, bHi, bLo) return aHi > bHi or (aHi == bHi and aLo > bLo) end

-- The floor: the later of the committing node's clock (ms) and Redis's (s, us).
local now = tonumber(ARGV[1])
local floorHi, floorLo = math.floor(now / 1000), (now % 1000) * 10000
local time = redis.call('TIME')
local timeHi, timeLo = tonumber(time[1]), tonumber(time[2]) * 10
if above(timeHi, timeLo, floorHi, floorLo) then floorHi, floorLo = timeHi, timeLo end

local hi, lo = -1, 0
local stored = redis.call('GET', KEYS[1])
if stored then
  hi, lo = parse(stored)
else
  -- First commit since the per-channel form: start above every channel's last timetoken.
  local legacy = redis.call('HVALS', KEYS[2])
  for _, tt in ipairs(legacy) do
    local h, l = parse(tt)
    if above(h, l, hi, lo) then hi, lo = h, l end
  end
  if #legacy > 0 then redis.call('DEL', KEYS[2]) end
end

local n = tonumber(ARGV[4])
local tts, bodies = {}, {}

for a = n + 5, #ARGV, 4 do
  local c, store, body, exp = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  -- max(floor, last + 1): unique and strictly increasing within the keyset whichever node commits.
  if above(floorHi, floorLo, hi, lo) then
    hi, lo = floorHi, floorLo
  else
    lo = lo + 1
    if lo == E7 then hi, lo = hi + 1, 0 end
  end
  local tt = text(hi, lo)
  tts[#tts + 1] = tt
  bodies[#bodies + 1] = body
  if store == '1' then
    redis.call('ZADD', KEYS[3 * c + 1], 0, tt)
    redis.call('HSET', KEYS[3 * c + 2], tt, body)
    if exp == '' then
      redis.call('ZREM', KEYS[3 * c + 3], tt)
    else
      redis.call('ZADD', KEYS[3 * c + 3], exp, tt)
      redis.call('SADD', KEYS[3], ARGV[4 + c])
    end
  end
end

redis.call('SET', KEYS[1], text(hi, lo))
-- message-codec.ts decodeFanout reads this shape: "<tt>,<tt>,...|[<subscribeKey>,[<body>,...]]"
redis.call('PUBLISH', ARGV[2], table.concat(tts, ',') .. '|[' .. ARGV[3] .. ',[' .. table.concat(bodies, ',') .. ']]')
return tts
