-- The differential fuzzer's command line (make fuzz N=... SEED=...):
--   luajit tools/fuzz/main.lua [--n=1000] [--seed=1] [--features=a,b] [--without=a,b]
--     [--compile-only] [--out=fuzz-failures] [--runs=5] [--shrink=N] [--budget=1500]
--     [--no-swarm] [--only=I] [--from=I] [--raw] [--loops=bpf_loop] [--functions=subprog]
--     [--packet=classic|linear] [--replay=FILE]
-- Generates programs, compiles, loads and test-runs each against the
-- oracle, shrinks every failure and writes it to a file under --out.
-- --compile-only needs no kernel: it generates and compiles (stand-in maps).
-- --loops=bounded|may_goto|bpf_loop compiles with that loop strategy (bpf(fn, {loops =})),
-- --functions=inline|subprog with that one for local functions.
-- Programs are compiled for sched_cls, which reads the packet directly;
-- --packet=classic keeps the classic loads, --packet=linear reads the linear
-- part only (bpf(fn, {packet =})); test runs hand over linear packets.
-- --shrink=N shrinks at most N failures of each signature (default all).
-- --only=I runs program I alone, --from=I programs I to N; --replay=FILE
-- runs a failure file again.  A crash of the core kills the process: the
-- program it was compiling is left in <out>/current.lua (renamed to
-- crash-<seed>-<index>.lua by the next run).
local ffi = require('ffi')
local gen = require('tools.fuzz.gen')
local run = require('tools.fuzz.run')
local shrink = require('tools.fuzz.shrink')

ffi.cdef [[
struct fuzz_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct fuzz_timespec *ts);
]]
local ts = ffi.new('struct fuzz_timespec')
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: the kernel's time counts too
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local function usage(msg)
  io.stderr:write('fuzz: ', msg, '\n')
  os.exit(2)
end

local function list(s)
  local out = {}
  for w in (s or ''):gmatch('[^,%s]+') do out[#out + 1] = w end
  return out
end

local function defaults()
  return { n = 1000, seed = 1, out = 'fuzz-failures', runs = 5, budget = 1500, swarm = true }
end

local numeric = { n = true, seed = true, runs = true, shrink = true, budget = true, only = true, from = true }

local function parse(argv)
  local o = defaults()
  for _, a in ipairs(argv) do
    local k, v = a:match('^%-%-([%w-]+)=(.*)$')
    if not k then k = a:match('^%-%-([%w-]+)$') end
    if numeric[k] then
      o[k] = tonumber(v) or usage('--' .. k .. ' wants a number')
    elseif k == 'features' then o.features = list(v)
    elseif k == 'without' then o.without = list(v)
    elseif k == 'out' or k == 'replay' or k == 'loops' or k == 'functions' or k == 'packet' then
      o[k] = v or usage('--' .. k .. ' wants a value')
    elseif k == 'compile-only' then o.compile_only = true
    elseif k == 'no-swarm' then o.swarm = false
    elseif k == 'raw' then o.raw = true
    elseif k == 'quiet' then o.quiet = true
    else usage('unknown argument ' .. a) end
  end
  return o
end

local function hex(s) return (s:gsub('.', function(c) return ('%02x'):format(c:byte()) end)) end
local function unhex(s) return (s:gsub('%x%x', function(h) return string.char(tonumber(h, 16)) end)) end

local function long_string(s)
  local eq = ''
  while s:find(']' .. eq .. ']', 1, true) do eq = eq .. '=' end
  return '[' .. eq .. '[\n' .. s .. ']' .. eq .. ']'
end

-- A failure as a Lua file that holds everything needed to see it again:
-- the program (and its oracle rendering), the input, the answers.
local function failure_file(o, f)
  local input = f.inputs[f.input or 1]
  local lines = {
    ('-- fuzz failure: %s%s'):format(f.class, f.sig and (' (' .. f.sig .. ')') or ''),
    ('-- seed %d, program %d%s; replay: luajit tools/fuzz/main.lua --replay=%s'):format(o.seed, f.index,
      f.input and (', input ' .. f.input) or '', f.path),
    '-- ' .. (f.msg or ''):gsub('\n.*', ''),
    'return {',
    ('  class = %q, seed = %d, program = %d, signature = %q,'):format(f.class, o.seed, f.index,
      f.sig or f.class),
    '  source = ' .. long_string(f.source) .. ',',
    '  oracle_source = ' .. long_string(f.oracle_source) .. ',',
    ('  packet = %q, -- %d bytes'):format(hex(input.packet), #input.packet),
    ('  ctx = { mark = %d, priority = %d, cb = { %s } },'):format(input.ctx.mark, input.ctx.priority,
      table.concat(input.ctx.cb, ', ')),
  }
  if f.expected then lines[#lines + 1] = ('  expected = %d, got = %d,'):format(f.expected, f.got) end
  lines[#lines + 1] = '  message = ' .. long_string(f.msg or '') .. ','
  lines[#lines + 1] = ('  shrunk_from = %d, -- characters of source before shrinking (%d tries)'):format(
    f.original_size, f.tries or 0)
  lines[#lines + 1] = '}'
  return table.concat(lines, '\n') .. '\n'
end

local function replay(o)
  local f = assert(dofile(o.replay))
  local runner = run.new({ kernel = true, raw = o.raw })
  local cb = {}
  for i = 1, 5 do cb[i] = f.ctx.cb[i] end
  local ctx = { mark = f.ctx.mark, priority = f.ctx.priority, cb = cb }
  local inputs = { { packet = unhex(f.packet), ctx = ctx } }
  io.write(f.source)
  local fail = runner:check_source(f.source, f.oracle_source, inputs)
  if not fail then
    print('fuzz: replay: no failure any more')
    os.exit(0)
  end
  print(('fuzz: replay: %s: %s'):format(fail.class, fail.msg))
  os.exit(1)
end

-- A fuzzing campaign: o = { n, seed, features, without, compile_only, out,
-- runs, shrink, max_shrinks, budget, swarm, only, from, raw, quiet, progress }.  Writes a
-- file per failure and returns { done, total, counts, sigs }, sigs a list
-- of { sig, n, path, source, msg, expected, got } (the smallest example).
local function campaign(o)
  local feat = gen.features(#(o.features or {}) > 0 and o.features or nil, o.without)
  os.execute('mkdir -p ' .. o.out)
  local current = o.out .. '/current.lua'
  -- left behind: the last run died compiling it (the core crashed)
  local left = io.open(current)
  if left then
    local text = left:read('*a')
    left:close()
    local seed, index = text:match('^%-%- fuzz: seed (%d+), program (%d+)')
    local path = ('%s/crash-%s-%s.lua'):format(o.out, seed or 'x', index or 'x')
    os.rename(current, path)
    print(('fuzz: the last run crashed compiling a program, kept as %s'):format(path))
  end
  local runner = run.new({ kernel = not o.compile_only, current = current, raw = o.raw, loops = o.loops,
    functions = o.functions, packet = o.packet })
  local counts, total = {}, 0
  for _, c in ipairs(run.classes) do counts[c] = 0 end
  local sigs, sig_list, shrunk_per_sig, shrinks = {}, {}, {}, 0
  local t0 = now()
  local last = t0
  local first, last_index = o.only or o.from or 1, o.only or o.n
  local done = 0
  for i = first, last_index do
    local prog = gen.program(o.seed, i, feat, o.swarm)
    runner.label = ('-- fuzz: seed %d, program %d: if this file is left behind, compiling it crashed the\n'
      .. '-- process; go on with --from=%d\n'):format(o.seed, i, i + 1)
    local inputs = run.inputs(gen.rng(o.seed * 31 + 17, i), o.runs)
    local f = runner:check(prog, inputs)
    if f then
      total = total + 1
      counts[f.class] = counts[f.class] + 1
      local sig0 = f.sig or f.class
      f.index, f.inputs = i, inputs
      f.original_size = #gen.render(prog)
      local best = prog
      if f.class ~= 'invalid' and (not o.shrink or (shrunk_per_sig[sig0] or 0) < o.shrink)
          and (not o.max_shrinks or shrinks < o.max_shrinks) then
        shrunk_per_sig[sig0] = (shrunk_per_sig[sig0] or 0) + 1
        shrinks = shrinks + 1
        best, f.tries = shrink.shrink(prog, function(cand)
          local g = runner:check(cand, inputs, { only = f.input })
          return g ~= nil and g.class == f.class and g.sig == f.sig
        end, { budget = o.budget })
        -- the answers of the shrunk program, not of the original
        local g = runner:check(best, inputs, { only = f.input }) or f
        f.msg, f.expected, f.got = g.msg, g.expected, g.got
      end
      f.source, f.oracle_source = gen.render(best), gen.render(best, true)
      -- mismatches have no message: the constructs left after shrinking name them
      local sig = f.sig or (f.tries and (f.class .. ': ' .. gen.shape(best))) or f.class
      f.sig = sig
      f.path = ('%s/%s-%d-%d.lua'):format(o.out, f.class, o.seed, i)
      local fh = assert(io.open(f.path, 'w'))
      fh:write(failure_file(o, f))
      fh:close()
      local s = sigs[sig]
      if not s then
        s = { sig = sig, n = 0 }
        sigs[sig] = s
        sig_list[#sig_list + 1] = s
      end
      s.n = s.n + 1
      if not s.source or (f.tries and (not s.tries or #f.source < #s.source)) then
        s.path, s.source, s.msg, s.tries = f.path, f.source, f.msg, f.tries
        s.expected, s.got = f.expected, f.got
      end
      if not o.quiet then
        print(('fuzz: program %d: %s: %s -> %s'):format(i, f.class, (f.msg or ''):match('^[^\n]*'), f.path))
      end
    end
    done = done + 1
    local t = now()
    if o.progress ~= false and t - last >= 3 then
      last = t
      print(('fuzz: %d/%d programs, %d failures (mismatch=%d mapdiff=%d refused=%d verifier=%d error=%d), '
        .. '%.0f programs/s'):format(done, last_index - first + 1, total, counts.mismatch, counts.mapdiff,
        counts.refused, counts.verifier, counts.error, done / (t - t0)))
    end
  end
  os.remove(o.out .. '/current.lua')
  runner:close()
  table.sort(sig_list, function(a, b) return a.n > b.n end)
  return { done = done, total = total, counts = counts, sigs = sig_list, elapsed = now() - t0 }
end

-- The JIT compiles the generator's and the oracle's branchy code into
-- traces that are soon thrown away (each oracle function runs a few
-- times): interpreted, a campaign runs twice as fast.
local function fuzz(o)
  local jit_on = jit.status()
  jit.off()
  local ok, r = pcall(campaign, o)
  if jit_on then jit.on() end
  if not ok then error(r, 0) end
  return r
end

-- The last line of a campaign.
local function summary(r)
  local c = r.counts
  return ('fuzz: %d programs, %d failures (mismatch=%d refused=%d verifier=%d error=%d)'):format(r.done,
    r.total, c.mismatch + c.mapdiff, c.refused, c.verifier, c.error + c.invalid)
end

local function main(argv)
  io.stdout:setvbuf('line') -- a crash of the core must not eat the lines before it
  local o = parse(argv)
  if o.replay then return replay(o) end
  local r = fuzz(o)
  if #r.sigs > 0 then
    print('fuzz: failures by signature (count, smallest example):')
    for _, s in ipairs(r.sigs) do print(('  %5d  %s  %s'):format(s.n, s.sig, s.path)) end
  end
  if r.counts.invalid > 0 then
    print(('fuzz: %d programs the oracle could not run: a bug of the fuzzer'):format(r.counts.invalid))
  end
  if (run.loops_refused or 0) > 0 then
    print(('fuzz: %d programs with a loop this kernel\'s verifier cannot bound were refused, saying so '
      .. '(no may_goto or sound bpf_loop here to compile them again with)'):format(run.loops_refused))
  end
  if (run.too_complex or 0) > 0 then
    print(('fuzz: %d programs had more paths than the verifier walks (not counted as failures)')
      :format(run.too_complex))
  end
  if (run.with_subprograms or 0) > 0 then
    print(('fuzz: %d programs compiled with BPF-to-BPF subprograms, %d of them with bpf_loop')
      :format(run.with_subprograms, run.with_bpf_loop or 0))
  end
  print(('fuzz: %.1f ms a program (%.1f s)'):format(r.elapsed / math.max(r.done, 1) * 1000, r.elapsed))
  print(summary(r))
  os.exit(r.total > 0 and 1 or 0)
end

-- Run as a script, or required (by spec/fuzz_spec.lua) for fuzz().
if ... ~= 'tools.fuzz.main' then main(arg) end

return { fuzz = fuzz, summary = summary, defaults = defaults }
