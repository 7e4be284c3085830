-- The few steps every example script takes around its own program: build
-- it (or say why the compiler refused it and exit), show its size and
-- listing, report the attachment, and run for EXAMPLE_SECONDS.
--
--   local run = require('examples.lib.run')
--   progs, maps = run.build(example.build, ...)   example.build(...), or its error on stderr and exit 1
--   run.show(p, note)                 "NAME: N instructions[, note]" and bpf.dump of p.prog
--   link = run.attached(link, err)    "attached: LINK", or err printed and nil returned
--   seconds = run.seconds(default)    EXAMPLE_SECONDS from the environment, or default
--   for _ = 1, run.rounds(seconds, interval) do ... end   at least one round
local bpf = require('bpf')

local M = {}

function M.build(build, ...)
  local progs, maps = build(...)
  if not progs then
    io.stderr:write(maps, '\n')
    os.exit(1)
  end
  return progs, maps
end

function M.show(p, note)
  print(('%s: %d instructions%s'):format(p.name, p.prog.pc, note and ', ' .. note or ''))
  bpf.dump(p.prog)
end

function M.attached(link, err)
  if not link then
    print(err)
    return nil
  end
  print('attached: ' .. tostring(link))
  return link
end

function M.seconds(default)
  return tonumber(os.getenv('EXAMPLE_SECONDS')) or default
end

function M.rounds(seconds, interval)
  return math.max(1, math.floor(seconds / interval))
end

return M
