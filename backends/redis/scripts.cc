#include "backends/redis/scripts.h"

#include <array>

namespace durable::backends::redis {
namespace {

// Shared by every script (see scripts.h).
constexpr char kPrelude[] = R"lua(
local P = KEYS[1]
local NOW = tonumber(ARGV[1])
if ARGV[2] == '1' then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local ACTIVE = '1'  -- v1::WORKFLOW_STATE_ACTIVE
local function fmt(n) return string.format('%d', n) end
local NOWS = fmt(NOW)

local WAKE = ARGV[3]  -- the wake-up channel
local pos = 3
local function arg() pos = pos + 1; return ARGV[pos] end
local function more() return pos < #ARGV end

local function mem(inst, exec) return #inst .. ':' .. inst .. ':' .. exec end
local function X(inst, exec) return P .. 'x:' .. mem(inst, exec) end
local function I(inst) return P .. 'i:' .. inst end
local function XS(inst) return P .. 'xs:' .. inst end
local function A(id) return P .. 'a:' .. id end
local function WQ(q) return P .. 'wq:' .. q end
local function AQ(q) return P .. 'aq:' .. q end

local touched = {}
-- What the script may have made ready, for the wake-up message: 'w'
-- workflow tasks, 'a' activity tasks, 'f' an execution ended.
local wakes = {}
local function wake(kind) wakes[kind] = true end
local function touch(inst, exec) touched[mem(inst, exec)] = {inst, exec} end

-- Whether execution key x has an inbox entry visible now.
local function has_visible(x)
  local ids = redis.call('ZRANGE', x .. ':ib', 0, -1)
  for _, id in ipairs(ids) do
    local v = redis.call('HGET', x .. ':ie', 'v' .. id)
    if v and tonumber(v) <= NOW then return true end
  end
  return false
end

-- Puts the execution in its queue at the time it may next be taken, or
-- takes it out when it has nothing to take.
local function reschedule(inst, exec)
  local x = X(inst, exec)
  local h = redis.call('HMGET', x, 'q', 'st', 'ra', 'lt', 'le')
  if not h[1] then return end
  local m = mem(inst, exec)
  if h[2] ~= ACTIVE then redis.call('ZREM', WQ(h[1]), m); return end
  local first = nil
  for _, id in ipairs(redis.call('ZRANGE', x .. ':ib', 0, -1)) do
    local v = tonumber(redis.call('HGET', x .. ':ie', 'v' .. id))
    if v and (first == nil or v < first) then first = v end
  end
  if first == nil then redis.call('ZREM', WQ(h[1]), m); return end
  local score = first
  local ra = tonumber(h[3] or '0')
  if ra > score then score = ra end
  if h[4] then
    local le = tonumber(h[5] or '0')
    if le > score then score = le end
  end
  redis.call('ZADD', WQ(h[1]), fmt(score), m)
  redis.call('SADD', P .. 'wqs', h[1])
end

-- Call at the end of every script that writes.
local function finish()
  for _, t in pairs(touched) do reschedule(t[1], t[2]) end
  local message = ''
  for _, kind in ipairs({'w', 'a', 'f'}) do
    if wakes[kind] then message = message .. kind end
  end
  if message ~= '' then redis.call('PUBLISH', WAKE, message) end
end

local function inbox_add(inst, exec, blob, vis, key, carry)
  local x = X(inst, exec)
  local id = fmt(redis.call('INCR', P .. 'seq'))
  redis.call('ZADD', x .. ':ib', id, id)
  if key ~= '' then
    redis.call('HSET', x .. ':ie', 'e' .. id, blob, 'v' .. id, vis,
               'c' .. id, carry, 'k' .. id, key)
  else
    redis.call('HSET', x .. ':ie', 'e' .. id, blob, 'v' .. id, vis,
               'c' .. id, carry)
  end
  touch(inst, exec)
  wake('w')
end

local function inbox_del(x, id)
  redis.call('ZREM', x .. ':ib', id)
  redis.call('HDEL', x .. ':ie', 'e' .. id, 'v' .. id, 'c' .. id, 'k' .. id)
end

local function delete_activity(id)
  local a = A(id)
  local h = redis.call('HMGET', a, 'q', 'i', 'e')
  if h[1] then redis.call('ZREM', AQ(h[1]), id) end
  if h[2] then redis.call('SREM', X(h[2], h[3]) .. ':a', id) end
  redis.call('DEL', a)
end

local function activity_leased_by(id, token)
  local lt = redis.call('HGET', A(id), 'lt')
  return lt ~= false and lt ~= nil and lt == token
end

local function delete_execution(inst, exec)
  local x = X(inst, exec)
  local q = redis.call('HGET', x, 'q')
  if q then redis.call('ZREM', WQ(q), mem(inst, exec)) end
  for _, id in ipairs(redis.call('SMEMBERS', x .. ':a')) do
    delete_activity(id)
  end
  redis.call('DEL', x, x .. ':h', x .. ':ib', x .. ':ie', x .. ':a')
  redis.call('ZREM', XS(inst), exec)
  redis.call('ZREM', P .. 'fin', mem(inst, exec))
end

-- Forgets the instance once it has no execution left.
local function forget_if_empty(inst)
  if redis.call('ZCARD', XS(inst)) > 0 then return end
  local lm = redis.call('HGET', I(inst), 'lm')
  if lm then redis.call('ZREM', P .. 'list', lm) end
  redis.call('DEL', I(inst), XS(inst))
  redis.call('SREM', P .. 'act', inst)
end

-- --- Plan operations (plan_encoder.h writes them) --------------------------

-- The execution a delivery goes to: `exec` when active, the instance's
-- active one for an empty `exec`; nil when none.
local function target(inst, exec)
  if exec == '' then
    local a = redis.call('HGET', I(inst), 'active')
    if a then return a end
    return nil
  end
  if redis.call('HGET', X(inst, exec), 'st') == ACTIVE then return exec end
  return nil
end

local function deliver_one(inst, exec, blob, vis, key, carry)
  local t = target(inst, exec)
  if not t then return false end
  inbox_add(inst, t, blob, vis, key, carry)
  return true
end

-- A Delivery: inst exec event visible key carry has_reply
--   [reply_inst reply_exec visible delivered carry not_delivered carry]
local function read_delivery()
  local d = {arg(), arg(), arg(), arg(), arg(), arg()}
  if arg() == '1' then
    d.reply = {arg(), arg(), arg(), arg(), arg(), arg(), arg()}
  end
  return d
end

-- core::ExecuteDelivery: the event, then the answer core prebuilt for the
-- outcome.
local function apply_delivery(d)
  local ok = deliver_one(d[1], d[2], d[3], d[4], d[5], d[6])
  local r = d.reply
  if r then
    if ok then
      deliver_one(r[1], r[2], r[4], r[3], '', r[5])
    else
      deliver_one(r[1], r[2], r[6], r[3], '', r[7])
    end
  end
  return ok
end

-- An ExecutionStart: inst exec created visible workflow queue parent
-- metadata started has_notice [delivery]. Returns the StartOutcome word.
local function start()
  local inst, exec, created, vis = arg(), arg(), arg(), arg()
  local wf, q, parent, md, blob = arg(), arg(), arg(), arg(), arg()
  local notice = nil
  if arg() == '1' then notice = read_delivery() end
  local outcome
  local active = redis.call('HGET', I(inst), 'active')
  if active then
    if active == exec then outcome = 'already' else outcome = 'other' end
  elseif redis.call('EXISTS', X(inst, exec)) == 1 then
    outcome = 'exists'
  else
    local seq = redis.call('INCR', P .. 'seq')
    local x = X(inst, exec)
    redis.call('HSET', x, 'i', inst, 'e', exec, 'wf', wf, 'q', q,
               'st', ACTIVE, 'c', created, 'md', md, 'p', parent,
               'hl', '0', 'ra', '0', 'seq', fmt(seq))
    local prev = redis.call('HGET', I(inst), 'lm')
    if prev then redis.call('ZREM', P .. 'list', prev) end
    local lm = string.format('%020d', seq) .. inst
    redis.call('ZADD', P .. 'list', created, lm)
    redis.call('HSET', I(inst), 'active', exec, 'latest', exec, 'lm', lm)
    redis.call('ZADD', XS(inst), fmt(seq), exec)
    redis.call('SADD', P .. 'act', inst)
    inbox_add(inst, exec, blob, vis, '', '0')
    outcome = 'started'
  end
  -- core's ExecuteStart: a refused child start tells the parent.
  if notice and (outcome == 'other' or outcome == 'exists') then
    apply_delivery(notice)
  end
  return outcome
end

local ops = {}
-- AppendHistory: inst exec n events...
ops.H = function()
  local inst, exec = arg(), arg()
  local n = tonumber(arg())
  local key = X(inst, exec) .. ':h'
  local done = 0
  while done < n do
    local chunk = {}
    local size = math.min(1000, n - done)
    for j = 1, size do chunk[j] = arg() end
    redis.call('RPUSH', key, unpack(chunk))
    done = done + size
  end
end
-- ConsumeInbox: inst exec max_id taken_at
ops.C = function()
  local inst, exec, max_id, taken = arg(), arg(), arg(), tonumber(arg())
  local x = X(inst, exec)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', x .. ':ib', '-inf', max_id)) do
    local v = redis.call('HGET', x .. ':ie', 'v' .. id)
    if v and tonumber(v) <= taken then inbox_del(x, id) end
  end
  touch(inst, exec)
end
-- WithdrawKeyedEvents: inst exec n keys...
ops.W = function()
  local inst, exec = arg(), arg()
  local n = tonumber(arg())
  local keys = {}
  for j = 1, n do keys[arg()] = true end
  local x = X(inst, exec)
  for _, id in ipairs(redis.call('ZRANGE', x .. ':ib', 0, -1)) do
    local k = redis.call('HGET', x .. ':ie', 'k' .. id)
    if k and keys[k] then inbox_del(x, id) end
  end
  touch(inst, exec)
end
-- EnqueueActivity: inst exec id queue event metadata name scheduled_at
-- lease_token lease_us
ops.A = function()
  local inst, exec, id, q, ev = arg(), arg(), arg(), arg(), arg()
  local md, name, sched, token, lease = arg(), arg(), arg(), arg(), arg()
  local a = A(id)
  redis.call('DEL', a)
  redis.call('HSET', a, 'i', inst, 'e', exec, 'q', q, 'ev', ev, 'at', '0',
             'md', md, 's', sched, 'v', sched, 'n', name)
  local score = tonumber(sched)
  if token ~= '' then
    local le = NOW + tonumber(lease)
    redis.call('HSET', a, 'lt', token, 'le', fmt(le))
    if le > score then score = le end
  end
  redis.call('ZADD', AQ(q), fmt(score), id)
  redis.call('SADD', P .. 'aqs', q)
  redis.call('SADD', X(inst, exec) .. ':a', id)
  -- An eagerly leased one is nobody else's until its lease expires.
  if token == '' then wake('a') end
end
-- UpdateExecution: inst exec state finished_at('' none) has_result result
-- history_length
ops.U = function()
  local inst, exec, st, fin = arg(), arg(), arg(), arg()
  local has_result, result, hl = arg(), arg(), arg()
  local x = X(inst, exec)
  redis.call('HSET', x, 'st', st, 'hl', hl, 'ra', '0')
  redis.call('HDEL', x, 'lt', 'le', 'ltf')
  if fin ~= '' then redis.call('HSET', x, 'f', fin) else redis.call('HDEL', x, 'f') end
  if has_result == '1' then
    redis.call('HSET', x, 'r', result)
  else
    redis.call('HDEL', x, 'r')
  end
  if st ~= ACTIVE then
    if redis.call('HGET', I(inst), 'active') == exec then
      redis.call('HDEL', I(inst), 'active')
      redis.call('SREM', P .. 'act', inst)
    end
    if fin ~= '' then redis.call('ZADD', P .. 'fin', fin, mem(inst, exec)) end
    wake('f')
  end
  touch(inst, exec)
  -- The lease is released: events that arrived in flight make it ready.
  if redis.call('ZCARD', x .. ':ib') > 0 then wake('w') end
end
ops.T = function() start() end
ops.D = function() apply_delivery(read_delivery()) end
-- SettleEndedInbox: inst exec next_execution
ops.S = function()
  local inst, exec, nxt = arg(), arg(), arg()
  local x = X(inst, exec)
  if nxt ~= '' then
    for _, id in ipairs(redis.call('ZRANGE', x .. ':ib', 0, -1)) do
      local e = redis.call('HMGET', x .. ':ie', 'e' .. id, 'v' .. id, 'c' .. id)
      if e[1] and e[3] == '1' then inbox_add(inst, nxt, e[1], e[2], '', '1') end
    end
  end
  redis.call('DEL', x .. ':ib', x .. ':ie')
  touch(inst, exec)
end
-- DropPreviousExecutions: inst
ops.R = function()
  local inst = arg()
  for _, exec in ipairs(redis.call('ZRANGE', XS(inst), 0, -1)) do
    if redis.call('HGET', X(inst, exec), 'st') ~= ACTIVE then
      delete_execution(inst, exec)
    end
  end
end

-- Runs the operations up to ARGV index `last`.
local function run_ops(last)
  while pos < last do
    local op = arg()
    local f = ops[op]
    if not f then error('durable: unknown plan operation ' .. tostring(op)) end
    f()
  end
end

-- --- Polls ------------------------------------------------------------------

-- A core::TaskNameFilter: restricted n names... m (queue all k names...)...
local function read_filter()
  local f = {restricted = arg() == '1', names = {}, claimed = {}}
  for j = 1, tonumber(arg()) do f.names[arg()] = true end
  for j = 1, tonumber(arg()) do
    local q = arg()
    local c = {all = arg() == '1', names = {}}
    for k = 1, tonumber(arg()) do c.names[arg()] = true end
    f.claimed[q] = c
  end
  return f
end

local function matches(f, q, name)
  if not f.restricted then return true end
  if f.names[name] then return true end
  local c = f.claimed[q]
  if not c then return true end
  if c.all then return false end
  return not c.names[name]
end

-- The earliest future score in the zsets `keys`, as a string; '' if none.
local function next_due(keys)
  local best = nil
  for _, key in ipairs(keys) do
    local r = redis.call('ZRANGEBYSCORE', key, '(' .. NOWS, '+inf',
                         'WITHSCORES', 'LIMIT', 0, 1)
    if r[2] then
      local s = tonumber(r[2])
      if best == nil or s < best then best = s end
    end
  end
  if best == nil then return '' end
  return fmt(best)
end

local function opt(v)
  if v then return '+' .. v end
  return ''
end

-- An execution's state as the store reads it back: i e wf q st c f md r ltf
local function state_of(inst, exec)
  local h = redis.call('HMGET', X(inst, exec), 'wf', 'q', 'st', 'c', 'f',
                       'md', 'r', 'ltf')
  return {inst, exec, h[1] or '', h[2] or '', h[3] or '0', h[4] or '0',
          h[5] or '', h[6] or '', opt(h[7]), opt(h[8])}
end
)lua";

// ARGV: instance start-operation. Returns OK, outcome.
constexpr char kCreate[] = R"lua(
arg()  -- 'T'
local outcome = start()
finish()
return {'OK', outcome}
)lua";

// ARGV: lease_us token filter nqueues queues...
constexpr char kPollWorkflow[] = R"lua(
local lease = tonumber(arg())
local token = arg()
local f = read_filter()
local queues = {}
for j = 1, tonumber(arg()) do queues[j] = arg() end
local best, best_score, best_q = nil, nil, nil
local stale = {}
for _, q in ipairs(queues) do
  local due = redis.call('ZRANGEBYSCORE', WQ(q), '-inf', NOWS, 'WITHSCORES',
                         'LIMIT', 0, 1000)
  for j = 1, #due, 2 do
    local m, score = due[j], tonumber(due[j + 1])
    if best_score and score >= best_score then break end
    local x = P .. 'x:' .. m
    local h = redis.call('HMGET', x, 'st', 'wf', 'ra', 'lt', 'le', 'i', 'e')
    if h[1] == ACTIVE and tonumber(h[3] or '0') <= NOW and
       (not h[4] or tonumber(h[5] or '0') <= NOW) and has_visible(x) then
      if matches(f, q, h[2]) then
        best, best_score, best_q = m, score, q
        break
      end
    else
      stale[#stale + 1] = {q, m, h[6], h[7]}
    end
  end
end
for _, s in ipairs(stale) do
  if s[3] then reschedule(s[3], s[4]) else redis.call('ZREM', WQ(s[1]), s[2]) end
end
if not best then
  local keys = {}
  for j, q in ipairs(queues) do keys[j] = WQ(q) end
  return {'NONE', next_due(keys)}
end
local x = P .. 'x:' .. best
local h = redis.call('HMGET', x, 'i', 'e', 'q', 'hl', 'md', 'wf', 'p')
redis.call('HSET', x, 'lt', token, 'le', fmt(NOW + lease))
reschedule(h[1], h[2])
local out = {'OK', h[1], h[2], h[3], h[4] or '0', h[5] or '', h[6] or '',
             h[7] or '', '0', NOWS}
local max_id = '0'
for _, id in ipairs(redis.call('ZRANGE', x .. ':ib', 0, -1)) do
  local e = redis.call('HMGET', x .. ':ie', 'e' .. id, 'v' .. id)
  if e[2] and tonumber(e[2]) <= NOW then
    out[#out + 1] = e[1] or ''
    max_id = id
  end
end
out[9] = max_id
return out
)lua";

// ARGV: instance execution token lease_us
constexpr char kExtendWorkflow[] = R"lua(
local inst, exec, token, lease = arg(), arg(), arg(), tonumber(arg())
local x = X(inst, exec)
if redis.call('HGET', x, 'lt') ~= token then return {'ABORTED'} end
redis.call('HSET', x, 'le', fmt(NOW + lease))
reschedule(inst, exec)
return {'OK'}
)lua";

// ARGV: instance execution token history_length ops...
constexpr char kCompleteWorkflow[] = R"lua(
local inst, exec, token, hl = arg(), arg(), arg(), arg()
local x = X(inst, exec)
local h = redis.call('HMGET', x, 'lt', 'hl')
if h[1] ~= token then return {'ABORTED'} end
if h[2] ~= hl then return {'HISTORY_MOVED', h[2] or ''} end
run_ops(#ARGV)
finish()
return {'OK'}
)lua";

// ARGV: instance execution token failure delay_us
constexpr char kAbandonWorkflow[] = R"lua(
local inst, exec, token, failure, delay = arg(), arg(), arg(), arg(), tonumber(arg())
local x = X(inst, exec)
if redis.call('HGET', x, 'lt') ~= token then return {'ABORTED'} end
redis.call('HDEL', x, 'lt', 'le')
redis.call('HSET', x, 'ltf', failure, 'ra', fmt(NOW + delay))
touch(inst, exec)
wake('w')
finish()
return {'OK'}
)lua";

// ARGV: lease_us token filter nqueues queues...
constexpr char kPollActivity[] = R"lua(
local lease = tonumber(arg())
local token = arg()
local f = read_filter()
local queues = {}
for j = 1, tonumber(arg()) do queues[j] = arg() end
local best, best_score, best_q = nil, nil, nil
for _, q in ipairs(queues) do
  local due = redis.call('ZRANGEBYSCORE', AQ(q), '-inf', NOWS, 'WITHSCORES',
                         'LIMIT', 0, 1000)
  for j = 1, #due, 2 do
    local id, score = due[j], tonumber(due[j + 1])
    if best_score and score >= best_score then break end
    local h = redis.call('HMGET', A(id), 'v', 'lt', 'le', 'n')
    if not h[1] then
      redis.call('ZREM', AQ(q), id)
    elseif tonumber(h[1]) <= NOW and (not h[2] or tonumber(h[3] or '0') <= NOW) then
      if matches(f, q, h[4] or '') then
        best, best_score, best_q = id, score, q
        break
      end
    else
      local s = tonumber(h[1])
      if h[2] and tonumber(h[3] or '0') > s then s = tonumber(h[3]) end
      redis.call('ZADD', AQ(q), fmt(s), id)
    end
  end
end
if not best then
  local keys = {}
  for j, q in ipairs(queues) do keys[j] = AQ(q) end
  return {'NONE', next_due(keys)}
end
local a = A(best)
local le = NOW + lease
redis.call('HSET', a, 'lt', token, 'le', fmt(le))
redis.call('ZADD', AQ(best_q), fmt(le), best)
local h = redis.call('HMGET', a, 'i', 'e', 'q', 'ev', 'at', 'md', 's')
return {'OK', best, h[1] or '', h[2] or '', h[3] or '', h[4] or '',
        h[5] or '0', h[6] or '', h[7] or '0'}
)lua";

// ARGV: activity_id token lease_us
constexpr char kExtendActivity[] = R"lua(
local id, token, lease = arg(), arg(), tonumber(arg())
if not activity_leased_by(id, token) then return {'ABORTED'} end
local le = NOW + lease
redis.call('HSET', A(id), 'le', fmt(le))
local q = redis.call('HGET', A(id), 'q')
redis.call('ZADD', AQ(q), fmt(le), id)
return {'OK'}
)lua";

// ARGV: activity_id token next_attempt visible_at
constexpr char kRetryActivity[] = R"lua(
local id, token, attempt, vis = arg(), arg(), arg(), arg()
if not activity_leased_by(id, token) then return {'ABORTED'} end
local a = A(id)
redis.call('HDEL', a, 'lt', 'le')
redis.call('HSET', a, 'at', attempt, 'v', vis)
redis.call('ZADD', AQ(redis.call('HGET', a, 'q')), vis, id)
wake('a')
finish()
return {'OK'}
)lua";

// ARGV: activity_id token delivery
constexpr char kCompleteActivity[] = R"lua(
local id, token = arg(), arg()
if not activity_leased_by(id, token) then return {'ABORTED'} end
local d = read_delivery()
delete_activity(id)
apply_delivery(d)
finish()
return {'OK'}
)lua";

// ARGV: activity_id token instance execution history_length valid plan_end
// ops... (up to ARGV[plan_end]) fallback-delivery. `valid` is "0" when core
// refused the plan (misnumbered events): then the step fails, writing
// nothing, if the plan would have been committed.
constexpr char kFusedStep[] = R"lua(
local id, token, inst, exec, hl = arg(), arg(), arg(), arg(), arg()
local valid = arg() == '1'
local plan_end = tonumber(arg())
if not activity_leased_by(id, token) then return {'ABORTED'} end
-- core::FusedStepMayCommit
local h = redis.call('HMGET', X(inst, exec), 'st', 'lt', 'le', 'hl')
local may = h[1] == ACTIVE and (not h[2] or tonumber(h[3] or '0') <= NOW) and
            h[4] == hl
if may and not valid then return {'INVALID'} end
delete_activity(id)
if may then
  run_ops(plan_end)
  finish()
  return {'OK', '1'}
end
pos = plan_end
apply_delivery(read_delivery())
finish()
return {'OK', '0'}
)lua";

// ARGV: instance event carry
constexpr char kDeliverEvent[] = R"lua(
local inst, blob, carry = arg(), arg(), arg()
local i = redis.call('HMGET', I(inst), 'active', 'latest')
if not i[1] then
  if i[2] then return {'NOT_ACTIVE', i[2]} end
  return {'NOT_FOUND'}
end
inbox_add(inst, i[1], blob, NOWS, '', carry)
finish()
return {'OK'}
)lua";

// ARGV: instance
constexpr char kRemoveInstance[] = R"lua(
local inst = arg()
local execs = redis.call('ZRANGE', XS(inst), 0, -1)
if #execs == 0 then return {'NOT_FOUND'} end
if redis.call('HGET', I(inst), 'active') then return {'ACTIVE'} end
for _, exec in ipairs(execs) do delete_execution(inst, exec) end
forget_if_empty(inst)
return {'OK'}
)lua";

// ARGV: finished_before_us
constexpr char kRemoveFinishedBefore[] = R"lua(
local before = arg()
local removed = 0
local insts = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'fin', '-inf', '(' .. before)) do
  local h = redis.call('HMGET', P .. 'x:' .. m, 'i', 'e', 'st')
  if not h[1] then
    redis.call('ZREM', P .. 'fin', m)
  elseif h[3] ~= ACTIVE then
    delete_execution(h[1], h[2])
    insts[h[1]] = true
    removed = removed + 1
  end
end
for inst, _ in pairs(insts) do forget_if_empty(inst) end
return {'OK', fmt(removed)}
)lua";

// ARGV: has_cursor created_us seq page_size. Returns OK, then per instance
// its 10 state fields and its list seq.
constexpr char kList[] = R"lua(
local has_cursor, cscore, cseq, size = arg() == '1', arg(), arg(), tonumber(arg())
local out = {'OK'}
local count = 0
local offset = 0
local max = '+inf'
if has_cursor then max = cscore end
while count < size do
  local r = redis.call('ZREVRANGEBYSCORE', P .. 'list', max, '-inf',
                       'WITHSCORES', 'LIMIT', offset, 100)
  if #r == 0 then break end
  offset = offset + #r / 2
  for j = 1, #r, 2 do
    local m = r[j]
    local seq = string.sub(m, 1, 20)
    if not (has_cursor and tonumber(r[j + 1]) == tonumber(cscore) and seq >= cseq) then
      local inst = string.sub(m, 21)
      local latest = redis.call('HGET', I(inst), 'latest')
      if latest then
        for _, v in ipairs(state_of(inst, latest)) do out[#out + 1] = v end
        out[#out + 1] = seq
        count = count + 1
        if count >= size then break end
      end
    end
  end
end
return out
)lua";

// ARGV: instance all('1': every execution, oldest first; else the latest)
constexpr char kState[] = R"lua(
local inst, all = arg(), arg() == '1'
local out = {'OK'}
local execs
if all then
  execs = redis.call('ZRANGE', XS(inst), 0, -1)
else
  local latest = redis.call('HGET', I(inst), 'latest')
  execs = {}
  if latest then execs[1] = latest end
end
if #execs == 0 then return {'NOT_FOUND'} end
for _, exec in ipairs(execs) do
  for _, v in ipairs(state_of(inst, exec)) do out[#out + 1] = v end
end
return out
)lua";

// ARGV: instance execution after_id
constexpr char kHistory[] = R"lua(
local inst, exec, after = arg(), arg(), tonumber(arg())
local x = X(inst, exec)
if redis.call('EXISTS', x) == 0 then return {'NOT_FOUND'} end
local out = {'OK'}
for _, e in ipairs(redis.call('LRANGE', x .. ':h', after, -1)) do
  out[#out + 1] = e
end
return out
)lua";

// Returns OK active nw (queue count)... na (queue count)...
constexpr char kStats[] = R"lua(
local out = {'OK', fmt(redis.call('SCARD', P .. 'act'))}
local w = {}
for _, q in ipairs(redis.call('SMEMBERS', P .. 'wqs')) do
  local n = 0
  for _, m in ipairs(redis.call('ZRANGE', WQ(q), 0, -1)) do
    local x = P .. 'x:' .. m
    if redis.call('HGET', x, 'st') == ACTIVE and has_visible(x) then n = n + 1 end
  end
  if n > 0 then w[#w + 1] = q; w[#w + 1] = fmt(n) end
end
out[#out + 1] = fmt(#w / 2)
for _, v in ipairs(w) do out[#out + 1] = v end
local a = {}
for _, q in ipairs(redis.call('SMEMBERS', P .. 'aqs')) do
  local n = redis.call('ZCARD', AQ(q))
  if n > 0 then a[#a + 1] = q; a[#a + 1] = fmt(n) end
end
out[#out + 1] = fmt(#a / 2)
for _, v in ipairs(a) do out[#out + 1] = v end
return out
)lua";

}  // namespace

const std::string& ScriptSource(Script script) {
  static const std::array<std::string,
                          static_cast<size_t>(Script::kCount)>* const kSources =
      [] {
        const char* bodies[] = {kCreate,
                                kPollWorkflow,
                                kExtendWorkflow,
                                kCompleteWorkflow,
                                kAbandonWorkflow,
                                kPollActivity,
                                kExtendActivity,
                                kRetryActivity,
                                kCompleteActivity,
                                kFusedStep,
                                kDeliverEvent,
                                kRemoveInstance,
                                kRemoveFinishedBefore,
                                kList,
                                kState,
                                kHistory,
                                kStats};
        static_assert(sizeof(bodies) / sizeof(bodies[0]) ==
                      static_cast<size_t>(Script::kCount));
        auto* sources =
            new std::array<std::string, static_cast<size_t>(Script::kCount)>;
        for (size_t i = 0; i < sources->size(); ++i) {
          (*sources)[i] = std::string(kPrelude) + bodies[i];
        }
        return sources;
      }();
  return (*kSources)[static_cast<size_t>(script)];
}

}  // namespace durable::backends::redis
