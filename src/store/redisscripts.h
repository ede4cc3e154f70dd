#pragma once

// The Lua scripts of RedisStore. Redis runs a script atomically, so each is one transaction;
// a script checks everything first and writes after, since Redis does not roll back a script
// that fails half-way. States "queued" and "streaming" are a turn not ended (types.cpp).
namespace holdfast::redisscripts {

// The conversation tree (shared/API.md, Branches). Each message's JSON holds its parent and
// depth; hf:{SID}:kids:P (sorted set, score = member = index) holds message P's children (P = -1:
// the first messages); the session hash holds head, length and tree = 1 once its kids keys exist.
// Data written before the tree (no tree field) is one branch: a message without parent follows
// the one before it, head is total - 1. It is read that way as it is (the read scripts below),
// and the first script that writes to such a session builds its kids keys (hfTree), once.
// Prepended to the scripts that need it (each script is sent whole: Redis has no shared code).
inline constexpr const char *kTreeLua = R"lua(
local function hfTree(sess, p)
  if redis.call('HEXISTS', sess, 'tree') == 1 then
    return
  end
  local total = tonumber(redis.call('HGET', sess, 'total')) or 0
  for i = 0, total - 1 do
    redis.call('ZADD', p .. 'kids:' .. (i - 1), i, i)
  end
  if redis.call('HEXISTS', sess, 'head') == 0 then
    redis.call('HSET', sess, 'head', total - 1, 'length', total)
  end
  redis.call('HSET', sess, 'tree', '1')
end
-- The key "parent" found without decoding the whole JSON (a message with attachments holds their
-- metadata too): inside a JSON string every quote is escaped, so only the key itself matches.
local function hfParent(json, at)
  local parent = tonumber(string.match(json, '"parent":(%-?%d+)'))
  if parent then
    return parent
  end
  parent = cjson.decode(json)['parent']
  if type(parent) ~= 'number' then
    return at - 1
  end
  return parent
end
local function hfSiblings(p, tree, at, parent)
  if not tree then
    return {tostring(at)}
  end
  return redis.call('ZRANGE', p .. 'kids:' .. parent, 0, -1)
end
)lua";

// KEYS: sess, hf:sessions. ARGV: score, sid, field/value pairs...
inline constexpr const char *kCreateSession = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('CONFLICT the session exists')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1
)lua";

// Moves head only when it changes, and then only while no turn runs and nothing was appended
// since the caller read the session (else a PATCH head from one instance could undo another's
// turn, or switch branches under it): CONFLICT otherwise.
// KEYS: sess, hf:sessions. ARGV: score, sid, key prefix, head, length, total, last, n, n fields
// to delete, field/value pairs... (kTreeLua first)
inline constexpr const char *kSaveMeta = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOTFOUND no such key')
end
hfTree(KEYS[1], ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'head', 'active', 'total', 'last')
if tonumber(s[1]) ~= tonumber(ARGV[4]) then
  if tonumber(s[2]) ~= 0 then
    return redis.error_reply('CONFLICT turn ' .. s[2] .. ' is active')
  end
  if tonumber(s[3]) ~= tonumber(ARGV[6]) or tonumber(s[4]) ~= tonumber(ARGV[7]) then
    return redis.error_reply('CONFLICT the session changed meanwhile')
  end
  redis.call('HSET', KEYS[1], 'head', ARGV[4], 'length', ARGV[5])
end
local n = tonumber(ARGV[8])
if n > 0 then
  redis.call('HDEL', KEYS[1], unpack(ARGV, 9, 8 + n))
end
redis.call('HSET', KEYS[1], unpack(ARGV, 9 + n))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1
)lua";

// Claims the session for a new turn: no other turn active, and nothing appended since the
// caller read the session. Stores the prompt (none when the turn regenerates an answer: message
// empty) as a child of its parent, and head on the prompt. The prompt's attachments must exist:
// their metadata (which never changes) is copied into its JSON, so that loading a message costs
// no lookup per attachment, and they are no longer unlinked uploads.
// KEYS: sess, msg:N, turn:T, lease:T, hf:sessions, hf:unfinished, hf:unlinked.
// ARGV: score, sid, N (the session's total before the turn: the prompt's index), T, message,
// lease ms, owner, total, active, last, updated, key prefix, head, length, the prompt's parent,
// n, n attachment ids, turn pairs... (kTreeLua first)
inline constexpr const char *kBeginTurn = R"lua(
local s = redis.call('HMGET', KEYS[1], 'total', 'active', 'last')
if not s[1] then
  return redis.error_reply('NOTFOUND no such key')
end
local natts = tonumber(ARGV[16])
local atts = {}
for i = 17, 16 + natts do
  local a = redis.call('HMGET', ARGV[12] .. 'att:' .. ARGV[i], 'id', 'name', 'type', 'size',
                       'created')
  if not a[1] then
    return redis.error_reply("NOTFOUND attachment '" .. ARGV[i] .. "'")
  end
  atts[#atts + 1] = {id = a[1], name = a[2], type = a[3], size = tonumber(a[4]),
                     created_at = a[5]}
end
local message = ARGV[5]
if natts > 0 then
  message = string.sub(message, 1, -2) .. ',"attachments":' .. cjson.encode(atts) .. '}'
end
if tonumber(s[2]) ~= 0 then
  return redis.error_reply('CONFLICT turn ' .. s[2] .. ' is active')
end
if tonumber(s[1]) ~= tonumber(ARGV[3]) or tonumber(s[3]) ~= tonumber(ARGV[4]) - 1 then
  return redis.error_reply('CONFLICT the session changed meanwhile')
end
hfTree(KEYS[1], ARGV[12])
redis.call('HSET', KEYS[1], 'total', ARGV[8], 'active', ARGV[9], 'last', ARGV[10],
           'updated', ARGV[11], 'head', ARGV[13], 'length', ARGV[14])
if message ~= '' then
  redis.call('SET', KEYS[2], message)
  redis.call('ZADD', ARGV[12] .. 'kids:' .. ARGV[15], ARGV[3], ARGV[3])
end
for i = 17, 16 + natts do
  redis.call('ZREM', KEYS[7], ARGV[2] .. '/' .. ARGV[i])
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 17 + natts))
redis.call('SET', KEYS[4], ARGV[7], 'PX', ARGV[6])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[6], ARGV[2] .. '/' .. ARGV[4])
return 1
)lua";

// The batch that holds chunk 0 also stores when it was written (the turn's `first`). A chunk's
// stream entry holds its text (field t) and, for a tool step only, the step's JSON (field tool):
// a text chunk costs what it did before tools.
// KEYS: turn, chunks, lease, cancel. ARGV: first seq, lease ms, owner, "SID/T", channel, now,
// n, n pairs (a tool step's position in the batch from 0, its JSON), texts... Returns 1 when
// someone asked to cancel the turn.
inline constexpr const char *kAppendChunks = R"lua(
local t = redis.call('HMGET', KEYS[1], 'state', 'chunks')
if not t[1] then
  return redis.error_reply('NOTFOUND no such key')
end
if t[1] ~= 'queued' and t[1] ~= 'streaming' and t[1] ~= 'waiting' then
  return redis.error_reply('CONFLICT the turn has ended')
end
local first = tonumber(ARGV[1])
if tonumber(t[2]) ~= first then
  return redis.error_reply('CONFLICT the next chunk is ' .. t[2])
end
local n = tonumber(ARGV[7])
local tools = {}
for i = 0, n - 1 do
  tools[tonumber(ARGV[8 + 2 * i])] = ARGV[9 + 2 * i]
end
local from = 8 + 2 * n
for i = from, #ARGV do
  local k = i - from
  if tools[k] then
    redis.call('XADD', KEYS[2], (first + k) .. '-1', 't', ARGV[i], 'tool', tools[k])
  else
    redis.call('XADD', KEYS[2], (first + k) .. '-1', 't', ARGV[i])
  end
end
redis.call('HSET', KEYS[1], 'chunks', first + #ARGV - from + 1)
if first == 0 then
  local f = redis.call('HGET', KEYS[1], 'first')
  if not f or f == '' then
    redis.call('HSET', KEYS[1], 'first', ARGV[6])
  end
end
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[4])
return redis.call('EXISTS', KEYS[4])
)lua";

// Ends a turn exactly once: a turn already ended (a retried save, or a sweeper that was first)
// or a deleted session is left alone and answers 0. The answer becomes a child of its parent
// and head moves onto it, with the answer: a crash never leaves head on a missing message. The
// stored `first` (when chunk 0 was written) wins over the caller's.
// KEYS: sess, msg:N, turn, lease, hf:sessions, hf:unfinished.
// ARGV: score, sid, N (-1: no answer), T, message, total, active, updated, channel, key prefix,
// head, length, the answer's parent, turn pairs... (kTreeLua first)
inline constexpr const char *kFinishTurn = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local state = redis.call('HGET', KEYS[3], 'state')
if state and state ~= 'queued' and state ~= 'streaming' and state ~= 'waiting' then
  return 0
end
local s = redis.call('HMGET', KEYS[1], 'total', 'active')
local meta = {'total', ARGV[6], 'updated', ARGV[8]}
if ARGV[3] ~= '-1' then
  if tonumber(s[1]) ~= tonumber(ARGV[3]) then
    return redis.error_reply('CONFLICT the answer would be message ' .. ARGV[3] ..
                             ' but the session has ' .. s[1])
  end
  hfTree(KEYS[1], ARGV[10])
  redis.call('SET', KEYS[2], ARGV[5])
  redis.call('ZADD', ARGV[10] .. 'kids:' .. ARGV[13], ARGV[3], ARGV[3])
  meta[#meta + 1] = 'head'
  meta[#meta + 1] = ARGV[11]
  meta[#meta + 1] = 'length'
  meta[#meta + 1] = ARGV[12]
else
  meta[2] = s[1]
end
if tonumber(s[2]) == tonumber(ARGV[4]) then
  meta[#meta + 1] = 'active'
  meta[#meta + 1] = ARGV[7]
end
redis.call('HSET', KEYS[1], unpack(meta))
local first = redis.call('HGET', KEYS[3], 'first')
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 14))
if first and first ~= '' then
  redis.call('HSET', KEYS[3], 'first', first)
end
redis.call('DEL', KEYS[4])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[2])
redis.call('SREM', KEYS[6], ARGV[2] .. '/' .. ARGV[4])
redis.call('PUBLISH', ARGV[9], ARGV[2] .. '/' .. ARGV[4])
return 1
)lua";

// KEYS: sess, hf:sessions, hf:unfinished, hf:unlinked. ARGV: sid, key prefix "hf:{SID}:".
inline constexpr const char *kDeleteSession = R"lua(
local s = redis.call('HMGET', KEYS[1], 'total', 'last')
local total = tonumber(s[1]) or 0
local last = tonumber(s[2]) or 0
local batch = {}
local function flush()
  if #batch > 0 then
    redis.call('UNLINK', unpack(batch))
    batch = {}
  end
end
for i = 0, total - 1 do
  batch[#batch + 1] = ARGV[2] .. 'msg:' .. i
  batch[#batch + 1] = ARGV[2] .. 'kids:' .. (i - 1)
  if #batch >= 1000 then flush() end
end
for t = 1, last do
  for _, k in ipairs({'turn:', 'chunks:', 'lease:', 'cancel:', 'decide:'}) do
    batch[#batch + 1] = ARGV[2] .. k .. t
  end
  redis.call('SREM', KEYS[3], ARGV[1] .. '/' .. t)
  if #batch >= 1000 then flush() end
end
for _, a in ipairs(redis.call('SMEMBERS', ARGV[2] .. 'atts')) do
  batch[#batch + 1] = ARGV[2] .. 'att:' .. a
  batch[#batch + 1] = ARGV[2] .. 'attbytes:' .. a
  redis.call('ZREM', KEYS[4], ARGV[1] .. '/' .. a)
  if #batch >= 1000 then flush() end
end
batch[#batch + 1] = ARGV[2] .. 'atts'
flush()
redis.call('UNLINK', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
)lua";

// Stores an upload: its metadata (hash) and bytes (string) apart, its id in the session's set,
// and "SID/AID" among the unlinked uploads until a prompt links it.
// KEYS: sess, att, attbytes, atts, hf:unlinked. ARGV: AID, "SID/AID", created (ms), bytes,
// pairs...
inline constexpr const char *kPutAttachment = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOTFOUND no such session')
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('CONFLICT the attachment exists')
end
redis.call('SET', KEYS[3], ARGV[4])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[2])
return 1
)lua";

// Deletes up to `limit` uploads no prompt linked, created before `before`; returns how many.
// KEYS: hf:unlinked. ARGV: before (ms, excluded), limit.
inline constexpr const char *kDeleteUnlinked = R"lua(
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0,
                           tonumber(ARGV[2]))
for _, m in ipairs(members) do
  local sid, aid = string.match(m, '^(.*)/([^/]*)$')
  if sid then
    local p = 'hf:{' .. sid .. '}:'
    redis.call('UNLINK', p .. 'att:' .. aid, p .. 'attbytes:' .. aid)
    redis.call('SREM', p .. 'atts', aid)
  end
  redis.call('ZREM', KEYS[1], m)
end
return #members
)lua";

// Turns not ended whose lease has expired, as HGETALL arrays; forgets ended ones.
// KEYS: hf:unfinished.
inline constexpr const char *kOrphanedTurns = R"lua(
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local sid, tid = string.match(m, '^(.*)/(%d+)$')
  local state = false
  if sid then
    state = redis.call('HGET', 'hf:{' .. sid .. '}:turn:' .. tid, 'state')
  end
  if not state or (state ~= 'queued' and state ~= 'streaming' and state ~= 'waiting') then
    redis.call('SREM', KEYS[1], m)
  elseif redis.call('EXISTS', 'hf:{' .. sid .. '}:lease:' .. tid) == 0 then
    out[#out + 1] = redis.call('HGETALL', 'hf:{' .. sid .. '}:turn:' .. tid)
  end
end
return out
)lua";

// KEYS: turn, lease, cancel, decide. ARGV: owner, lease ms. -1: the turn ended; else 1 if a
// cancel was requested, plus 2 if answers to tool calls wait (kTakeToolDecisions).
inline constexpr const char *kRenewLease = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state or (state ~= 'queued' and state ~= 'streaming' and state ~= 'waiting') then
  return -1
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return redis.call('EXISTS', KEYS[3]) + 2 * redis.call('EXISTS', KEYS[4])
)lua";

// KEYS: turn, cancel. ARGV: "SID/T", ttl ms, channel. 0: the turn has already ended.
inline constexpr const char *kRequestCancel = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOTFOUND no such key')
end
if state ~= 'queued' and state ~= 'streaming' and state ~= 'waiting' then
  return 0
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[1])
return 1
)lua";

// A running turn's state (streaming <-> waiting); an ended turn is left alone (0). Announced on
// the turns' channel, as chunks are. KEYS: turn. ARGV: state, "SID/T", channel.
inline constexpr const char *kSaveTurnState = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOTFOUND no such key')
end
if state ~= 'queued' and state ~= 'streaming' and state ~= 'waiting' then
  return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1
)lua";

// The user's answer to a tool call, for the instance that runs the turn: kept in the hash
// decide:T (call id -> "1" approve / "0" decline) until that instance takes it, and announced
// on the tools' channel; 0: the turn has already ended. The hash outlives a lost pub/sub
// message: the lease renewal finds it (kRenewLease).
// KEYS: turn, decide. ARGV: "SID/T", call id, "1" or "0", ttl ms, channel.
inline constexpr const char *kRequestToolDecision = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOTFOUND no such key')
end
if state ~= 'queued' and state ~= 'streaming' and state ~= 'waiting' then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[1])
return 1
)lua";

// Takes the answers waiting in decide:T (call id, "1"/"0" pairs), once: the hash goes with them.
// KEYS: decide.
inline constexpr const char *kTakeToolDecisions = R"lua(
local d = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return d
)lua";

// ARGV: session ids. Their metadata hashes, in order (empty for a missing one).
inline constexpr const char *kSessionsAt = R"lua(
local out = {}
for i, id in ipairs(ARGV) do
  out[i] = redis.call('HGETALL', 'hf:{' .. id .. '}:sess')
end
return out
)lua";

// Up to `limit` messages of the branch that ends at message `last`, following parent links,
// newest first: {index, JSON, siblings} each. One script: one round trip and one
// consistent view, O(limit) lookups whatever the history. KEYS: sess. ARGV: key prefix, last,
// limit. (kTreeLua first)
inline constexpr const char *kLoadBranch = R"lua(
local tree = redis.call('HEXISTS', KEYS[1], 'tree') == 1
local out = {}
local at = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
while at >= 0 and #out < limit do
  local json = redis.call('GET', ARGV[1] .. 'msg:' .. at)
  if not json then
    break
  end
  local parent = hfParent(json, at)
  out[#out + 1] = {at, json, hfSiblings(ARGV[1], tree, at, parent)}
  if parent >= at then
    break
  end
  at = parent
end
return out
)lua";

// Messages from..to-1 (to - from kept small by the caller): {index, JSON or '', siblings} each.
// KEYS: sess. ARGV: key prefix, from, to. (kTreeLua first)
inline constexpr const char *kMessagesAt = R"lua(
local tree = redis.call('HEXISTS', KEYS[1], 'tree') == 1
local out = {}
local kids = {}
for at = tonumber(ARGV[2]), tonumber(ARGV[3]) - 1 do
  local json = redis.call('GET', ARGV[1] .. 'msg:' .. at)
  if not json then
    out[#out + 1] = {at, '', {}}
  else
    local parent = hfParent(json, at)
    local siblings = kids[parent]
    if not siblings or not tree then
      siblings = hfSiblings(ARGV[1], tree, at, parent)
      kids[parent] = siblings
    end
    out[#out + 1] = {at, json, siblings}
  end
end
return out
)lua";

// From message `from`, the child with the highest index, again and again: the last message.
// KEYS: sess. ARGV: key prefix, from. (kTreeLua first)
inline constexpr const char *kLatestLeaf = R"lua(
local from = tonumber(ARGV[2])
if from < 0 or redis.call('EXISTS', ARGV[1] .. 'msg:' .. from) == 0 then
  return redis.error_reply('NOTFOUND no such message')
end
if redis.call('HEXISTS', KEYS[1], 'tree') == 0 then
  return math.max(from, (tonumber(redis.call('HGET', KEYS[1], 'total')) or 0) - 1)
end
local at = from
while true do
  local c = redis.call('ZRANGE', ARGV[1] .. 'kids:' .. at, -1, -1)
  if #c == 0 or tonumber(c[1]) <= at then
    return at
  end
  at = tonumber(c[1])
end
)lua";

} // namespace holdfast::redisscripts
