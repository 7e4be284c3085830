-- A cgroup connect redirector: a connect4 program on a cgroup (v2) sends
-- every TCP or UDP connect of the cgroup's processes to 127.0.0.1:FROM to
-- port TO instead, rewriting the address connect() was given before the
-- kernel uses it.  Ports and addresses read and write in host byte order.
-- The script makes a cgroup (or takes the one named on its command line),
-- attaches the program, joins the cgroup to connect to FROM, shows where the
-- connection went, then leaves the cgroup and removes what it made.
--   sudo luajit examples/cgroup-connect.lua [/sys/fs/cgroup/some-cgroup]
-- require('examples.cgroup-connect').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local lo = require('examples.lib.loopback')
local run = require('examples.lib.run')

local example = {}

example.from, example.to = 9971, 9972
local REDIRECTED = 0

function example.build(from, to)
  from, to = from or example.from, to or example.to
  local counts = assert(bpf.map('array', 1))
  local redirect, err = bpf(function(ctx)
    if ctx.user_ip4 == 0x7f000001 and ctx.user_port == from then -- 127.0.0.1:from
      ctx.user_port = to
      xadd(counts[REDIRECTED], 1)
    end
    return 1 -- let connect() go on (0: it fails with EPERM)
  end, { ctx = bpf.proto.sock_addr, type = 'cgroup_sock_addr', attach = 'cgroup_inet4_connect' })
  if not redirect then return nil, err end
  return { { name = 'redirect', prog = redirect, type = 'cgroup_sock_addr' } }, { counts = counts }
end

-- The cgroup v2 mount, and this process's cgroup under it.
local function cgroup2()
  local root
  for line in io.lines('/proc/mounts') do
    local dir, fstype = line:match('^%S+ (%S+) (%S+)')
    if fstype == 'cgroup2' then root = dir end
  end
  assert(root, 'no cgroup2 mount')
  local own
  for line in io.lines('/proc/self/cgroup') do own = line:match('^0::(.*)$') or own end
  return root, root .. (own or '/'):gsub('/$', '')
end

ffi.cdef 'int getpid(void);'
local function join(dir)
  local f = assert(io.open(dir .. '/cgroup.procs', 'w'))
  assert(f:write(ffi.C.getpid()))
  assert(f:close())
end

function example.main(path)
  local progs, maps = run.build(example.build)
  run.show(progs[1])
  local root, home = cgroup2()
  local dir = path or ('%s/bpf-cgroup-connect-%d'):format(root, ffi.C.getpid())
  if not path then
    local made = os.execute('mkdir ' .. dir)
    assert(made == 0 or made == true, 'cannot make ' .. dir)
  end
  local link = run.attached(assert(bpf.cgroup(dir, 'connect4', progs[1].prog)))
  local a, b = lo.tcp_listener(example.from), lo.tcp_listener(example.to)
  join(dir) -- from here on, this process's connects go through the program
  local fd, reached = lo.tcp_connect(example.from)
  join(home)
  -- which listener has a connection waiting
  local function waiting(listener)
    local conn = lo.accept(listener)
    if conn then lo.close(conn) end
    return conn and 1 or 0
  end
  print(('connect to 127.0.0.1:%d reached port %s; connections at %d: %d, at %d: %d; %d redirected')
    :format(example.from, tostring(reached), example.from, waiting(a), example.to, waiting(b),
      maps.counts[REDIRECTED]))
  if fd then lo.close(fd) end
  lo.close(a)
  lo.close(b)
  link:close()
  if not path then os.execute('rmdir ' .. dir) end
end

if modname and package.loaded[modname] then return example end
example.main(arg and arg[1])
