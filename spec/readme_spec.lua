-- The README's REPL session, against the kernel: its `> ` lines are fed to
-- an interactive `luajit -i` (the interpreter running this spec) and what
-- it prints must be what the README shows after each of them.  Only a
-- link's fd number may differ (it depends on what the process has open).

local interpreter = require('spec.support.kernel').interpreter

-- The session: the code block that starts with "$ sudo luajit", as a list
-- of { input = line, output = text printed after it }.
local function session()
  local f = assert(io.open('README.md'))
  local text = f:read('*a')
  f:close()
  local block = text:match('\n```\n%$ sudo luajit\n(.-)\n```\n')
  assert(block, 'README.md has no "$ sudo luajit" session')
  local steps = {}
  for line in (block .. '\n'):gmatch('([^\n]*)\n') do
    local input = line:match('^> (.*)$')
    if input then
      steps[#steps + 1] = { input = input, output = '' }
    else
      assert(#steps > 0, 'README.md: output before the first input in the REPL session: ' .. line)
      steps[#steps].output = steps[#steps].output .. line .. '\n'
    end
  end
  return steps
end

-- A pattern matching text exactly, except that a number after "fd " may be any.
local function pattern_of(text)
  local escaped = text:gsub('[%^%$%(%)%%%.%[%]%*%+%-%?]', '%%%0')
  return '^' .. escaped:gsub('fd %d+', 'fd %%d+') .. '$'
end

describe('the README against the kernel', function()
  it('shows a REPL session that luajit -i prints as shown', function()
    local steps = session()
    assert.is_true(#steps >= 5)
    local input = os.tmpname()
    local f = assert(io.open(input, 'w'))
    local want = ''
    for _, step in ipairs(steps) do
      f:write(step.input, '\n')
      want = want .. '> ' .. step.output -- the prompt, then what the line prints
    end
    want = want .. '> \n' -- the last prompt, and the newline at the end of input
    f:close()
    local p = assert(io.popen(("cd / && '%s' -i < %s 2>&1"):format(interpreter(), input)))
    local out = p:read('*a')
    p:close()
    os.remove(input)
    local banner, rest = out:match('^(LuaJIT [^\n]*\nJIT: [^\n]*\n)(.*)$')
    assert.is_truthy(banner, 'no LuaJIT banner in:\n' .. out)
    assert.is_truthy(rest:match(pattern_of(want)), ('the README shows:\n%s\nluajit -i printed:\n%s')
      :format(want, rest))
  end)
end)
