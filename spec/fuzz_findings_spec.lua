-- Every wrong or refused program the differential fuzzer found (and the
-- compiler no longer gets wrong), as the fuzzer wrote it: the program in
-- both renderings, the packet and the context.  Each must compile, load and
-- give the oracle's answer in the kernel again (tools/fuzz/main.lua --replay
-- runs one the same way).
local run = require('tools.fuzz.run')

local dir = 'spec/data/fuzz/'

local function unhex(h)
  return (h:gsub('%x%x', function(x) return string.char(tonumber(x, 16)) end))
end

local files = {}
local p = assert(io.popen('ls ' .. dir))
for name in p:lines() do files[#files + 1] = name end
p:close()

describe('the fuzzer\'s findings', function()
  local runner = run.new({ kernel = true })
  for _, name in ipairs(files) do
    it(name:gsub('%.lua$', '') .. ' gives the oracle\'s answer', function()
      local f = assert(dofile(dir .. name))
      local cb = {}
      for i = 1, 5 do cb[i] = f.ctx.cb[i] end
      local ctx = { mark = f.ctx.mark, priority = f.ctx.priority, cb = cb }
      local inputs = { { packet = unhex(f.packet), ctx = ctx } }
      local fail = runner:check_source(f.source, f.oracle_source, inputs)
      assert(not fail, fail and ('%s: %s'):format(fail.class, tostring(fail.msg)))
    end)
  end
end)
