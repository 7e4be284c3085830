-- Watch reads and writes of keys in a KyotoTycoon server (ktserver) with a
-- uprobe on a C++ method, by its mangled-away name:
--   bool kyotocabinet::StashDB::accept(const char *kbuf, size_t ksiz,
--                                      Visitor *visitor, bool writable)
-- (with `this`, the key is the second argument, its length the third and
-- the write flag the fifth).  Matching calls print the key to the trace pipe,
-- which the script reads.  bpf.uprobe finds the method by its demangled
-- name.
--   sudo luajit examples/uprobe-tailkt.lua [get|set|any] [key]
-- (the same words as ktremotemgr; key '*', the default, matches any key).
-- require('examples.uprobe-tailkt').build(writable, key) compiles the program
-- only; writable is 0 (get), 1 (set) or 'any'.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local proto = require('bpf.proto')
local run = require('examples.lib.run')

local example = {}

example.target = '/usr/local/bin/ktserver:kyotocabinet::StashDB::accept'

-- writable and watch_key are folded into the program: compile again to
-- watch something else.
function example.build(writable, watch_key)
  writable, watch_key = writable or 'any', watch_key or '*'
  local klen = 80 -- the longest key copied when watching any key
  if watch_key ~= '*' then klen = #watch_key end
  local key_type = ('char [%d]'):format(klen)
  local prog, err = bpf(function(ptregs)
    if writable ~= 'any' then -- only gets, or only sets
      if ptregs.parm5 ~= writable then return end
    end
    local key = ffi.new(key_type)
    if watch_key ~= '*' then -- one key only: its klen bytes (the key has no NUL of its own)
      ffi.copy(key, ffi.cast('char *', ptregs.parm2), klen)
    else -- any key: a string, cut at klen - 1 bytes
      ffi.copy(key, ffi.cast('char *', ptregs.parm2))
    end
    if watch_key ~= '*' then
      if ptregs.parm3 ~= klen then return false end
      if key ~= watch_key then return false end
    end
    print('%s write:%d\n', key, ptregs.parm5)
  end, { ctx = proto.pt_regs, type = 'kprobe', memory = 'user' })
  if not prog then return nil, err end
  return { { name = 'kt_accept', prog = prog, type = 'kprobe', attach = example.target } }, {}
end

local function usage(problem)
  print(('usage: %s [get|set|any] [key]'):format(arg and arg[0] or 'uprobe-tailkt.lua'))
  if problem then print('error: ' .. problem) end
  os.exit(problem and 1 or 0)
end

function example.main(cmd, key)
  local writable = 'any'
  if cmd == 'get' then writable = 0
  elseif cmd == 'set' then writable = 1
  elseif cmd == '-h' or cmd == '--help' then usage()
  elseif cmd and cmd ~= 'any' then usage(('unknown command "%s"'):format(cmd))
  end
  local progs = run.build(example.build, writable, key)
  local p = progs[1]
  run.show(p, 'a kprobe program (uprobes are kprobe programs)')
  local link = run.attached(bpf.uprobe(p.attach, p.prog))
  if not link then
    print('(is KyotoTycoon\'s ktserver installed there? nothing to watch without it)')
    return
  end
  local log = assert(bpf.tracelog())
  local seconds = run.seconds()
  print(seconds and ('keys read or written in the next %g s:'):format(seconds)
    or 'keys read or written (Ctrl-C to stop):')
  local quiet = 0 -- quarter seconds without a line
  while not seconds or quiet < seconds * 4 do
    local line, message = log:read(250)
    if not line then quiet = quiet + 1 end
    if message then print(message) end
  end
  log:close()
  link:close()
end

-- require() hands over the builder; `luajit examples/uprobe-tailkt.lua ...` runs it.
if modname and package.loaded[modname] then return example end
example.main(...)
