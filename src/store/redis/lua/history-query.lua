--[[ Reads the visible messages of several channels of one keyset, from the kept end of a range.
KEYS[3c-2], KEYS[3c-1],
KEYS[3c]        channel c: msg ZSET (index), body HASH, mexp ZSET (expiry index)
ARGV[1]         lex min: '-' or '[' .. 19-digit timetoken (inclusive)
ARGV[2]         lex max: '[' .. 19-digit timetoken (inclusive)
ARGV[3]         'oldest' or 'newest': which end of the range the limit keeps
ARGV[4]         limit (> 0), per channel
ARGV[5]         nowMs: messages with expiresAtMs <= nowMs are invisible
Returns one flat array per channel, {tt, body, tt, body, ...}, ascending by timetoken.
]]
local min, max, keep, limit, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]

-- unpack() is limited to a few thousand values, so multi-value commands go in chunks.
local function hmget(key, fields)
  local out = {}
  for i = 1, #fields, 1000 do
    local chunk = {}
    for j = i, math.min(i + 999, #fields) do chunk[#chunk + 1] = fields[j] end
    local values = redis.call('HMGET', key, unpack(chunk))
    for j = 1, #chunk do out[#out + 1] = values[j] end
  end
  return out
end

local result = {}
for c = 1, #KEYS / 3 do
  local msg, bodies, mexp = KEYS[3 * c - 2], KEYS[3 * c - 1], KEYS[3 * c]
  local due = redis.call('ZRANGEBYSCORE', mexp, '-inf', now)
  local expired = {}
  for i = 1, #due do expired[due[i]] = true end
  -- At most #due fetched rows are invisible, so limit + #due rows always hold `limit` visible ones.
  local fetch = limit + #due
  if fetch > 1000000000 then fetch = -1 end
  local tts
  if keep == 'oldest' then
    tts = redis.call('ZRANGEBYLEX', msg, min, max, 'LIMIT', 0, fetch)
  else
    tts = redis.call('ZREVRANGEBYLEX', msg, max, min, 'LIMIT', 0, fetch)
  end
  local kept = {}
  for i = 1, #tts do
    if #kept >= limit then break end
    if not expired[tts[i]] then kept[#kept + 1] = tts[i] end
  end
  if keep ~= 'oldest' then
    for i = 1, math.floor(#kept / 2) do kept[i], kept[#kept + 1 - i] = kept[#kept + 1 - i], kept[i] end
  end
  local values = hmget(bodies, kept)
  local rows = {}
  for i = 1, #kept do
    rows[2 * i - 1] = kept[i]
    rows[2 * i] = values[i]
  end
  result[c] = rows
end
return result
