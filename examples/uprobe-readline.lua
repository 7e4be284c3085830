-- Print every line that any bash reads with readline(): a uretprobe on
-- /bin/bash:readline copies the returned string (40 bytes at most) to the
-- stack and prints it to the kernel's trace pipe, which the script reads.
-- It types a few lines into an interactive bash itself (on a terminal that
-- script(1) provides); where bash has no readline symbol or script(1) is
-- missing, it builds a small C program with its own readline() with cc and
-- probes that instead.
--   sudo luajit examples/uprobe-readline.lua
-- require('examples.uprobe-readline').build() compiles the program only.
local modname = ...
local ffi = require('ffi')
local bpf = require('bpf')
local proto = require('bpf.proto')
local run = require('examples.lib.run')

local example = {}

function example.build()
  local prog, err = bpf(function(ptregs)
    local line = ffi.new('char [40]')             -- a buffer on the BPF stack
    ffi.copy(line, ffi.cast('char *', ptregs.ax)) -- the return value is the line (a string)
    print('%s\n', line)                           -- to /sys/kernel/tracing/trace_pipe
  end, { ctx = proto.pt_regs, type = 'kprobe', memory = 'user' }) -- its registers hold user addresses
  if not prog then return nil, err end
  return { { name = 'bash_readline', prog = prog, type = 'kprobe', attach = '/bin/bash:readline',
    retprobe = true } }, {}
end

local lines = { 'echo one', 'echo two', 'echo three' }

local stand_in = [[
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Like readline(3): a line without its newline, in memory the caller frees. */
__attribute__((noinline)) char *readline(const char *prompt)
{
	char buf[256];
	fputs(prompt, stdout);
	if (!fgets(buf, sizeof buf, stdin))
		return NULL;
	buf[strcspn(buf, "\n")] = 0;
	return strdup(buf);
}
int main(void)
{
	char *line;
	while ((line = readline("> ")) != NULL)
		free(line);
	return 0;
}
]]

local function succeeds(cmd)
  local ok = os.execute(cmd)
  return ok == 0 or ok == true
end

-- What to probe, and a function that makes it read `lines`.
local function choose_target(target)
  local path = target:match('^([^:]+)')
  if require('bpf.elf').func_offset(path, 'readline') and succeeds('command -v script >/dev/null 2>&1') then
    return target, function()
      local bash = assert(io.popen(('script -qfec "%s --norc --noprofile -i" /dev/null >/dev/null 2>&1')
        :format(path), 'w'))
      bash:write(table.concat(lines, '\n'), '\nexit\n')
      bash:close()
    end
  end
  local dir = os.tmpname()
  os.remove(dir)
  assert(succeeds('mkdir -p ' .. dir))
  local f = assert(io.open(dir .. '/readline.c', 'w'))
  f:write(stand_in)
  f:close()
  assert(succeeds(('cc -O1 -o %s/readline %s/readline.c'):format(dir, dir)), 'cc failed')
  print(('(%s has no readline() to probe here: using a small C program with its own, %s/readline)')
    :format(path, dir))
  return dir .. '/readline:readline', function()
    local prog = assert(io.popen(dir .. '/readline >/dev/null', 'w'))
    prog:write(table.concat(lines, '\n'), '\n')
    prog:close()
  end, dir
end

function example.main()
  local progs = run.build(example.build)
  local p = progs[1]
  run.show(p, 'a kprobe program (uprobes are kprobe programs)')
  local target, type_lines, dir = choose_target(p.attach)
  local link = run.attached(assert(bpf.uprobe(target, p.prog, p.retprobe)))
  local log = assert(bpf.tracelog())
  local seconds = run.seconds(3)
  print(('typing %d lines into it, then reading the trace pipe for %g s:'):format(#lines, seconds))
  type_lines()
  local quiet = 0 -- quarter seconds without a line
  while quiet < seconds * 4 do
    local line, message = log:read(250)
    if not line then
      quiet = quiet + 1
    elseif message then
      print('  read: ' .. message)
    elseif line ~= '' then
      print('  ' .. line)
    end
  end
  log:close()
  link:close()
  if dir then os.execute('rm -rf ' .. dir) end
end

-- require() hands over the builder; `luajit examples/uprobe-readline.lua` runs it.
if modname and package.loaded[modname] then return example end
example.main()
