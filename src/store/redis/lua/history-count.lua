--[[ Counts one channel's visible messages in a timetoken range, up to a cap.
KEYS[1]   msg ZSET (index)
KEYS[2]   mexp ZSET (expiry index)
ARGV[1]   lex min: '-' or '[' .. 19-digit timetoken (inclusive)
ARGV[2]   lex max: '[' .. 19-digit timetoken (inclusive)
ARGV[3]   nowMs: messages with expiresAtMs <= nowMs do not count
ARGV[4]   cap (> 0)
Returns min(visible, cap).
]]
local total = redis.call('ZLEXCOUNT', KEYS[1], ARGV[1], ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
-- Fixed-width digit strings compare like the numbers they spell.
local lo = ''
if ARGV[1] ~= '-' then lo = string.sub(ARGV[1], 2) end
local hi = string.sub(ARGV[2], 2)
local hidden = 0
for i = 1, #due do
  if due[i] >= lo and due[i] <= hi then hidden = hidden + 1 end
end
return math.min(total - hidden, tonumber(ARGV[4]))
