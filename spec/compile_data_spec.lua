-- The compiler's output pinned by the data files in spec/data/compile (one
-- program each, see spec/support/compile_data.lua): every case compiles to
-- its listing or fails with its error, with stand-in maps and no kernel.
-- The cases with a "-- run" section are then loaded into the kernel with
-- real maps and run with BPF_PROG_TEST_RUN.  When the compiler changes on
-- purpose, `make golden` rewrites the listings (tools/golden.lua).
-- With BPFC_REGS=k set (register allocation left k registers, so that it
-- spills: csrc/regalloc.c) the listings are not compared, only the errors
-- and the kernel runs.
local data = require('spec.support.compile_data')
local regs_knob = os.getenv('BPFC_REGS')

local cases = data.cases()

-- Expected and got, line by line: ' ' both, '-' expected only, '+' got only.
local function diff(expected, got)
  local a, b = {}, {}
  for l in (expected .. '\n'):gmatch('(.-)\n') do a[#a + 1] = l end
  for l in (got .. '\n'):gmatch('(.-)\n') do b[#b + 1] = l end
  local n, m, lcs = #a, #b, {}
  for i = n + 1, 1, -1 do
    lcs[i] = {}
    for j = m + 1, 1, -1 do
      if i > n or j > m then lcs[i][j] = 0
      elseif a[i] == b[j] then lcs[i][j] = lcs[i + 1][j + 1] + 1
      else lcs[i][j] = math.max(lcs[i + 1][j], lcs[i][j + 1]) end
    end
  end
  local out, i, j = {}, 1, 1
  while i <= n or j <= m do
    if i <= n and j <= m and a[i] == b[j] then
      out[#out + 1] = '  ' .. a[i]
      i, j = i + 1, j + 1
    elseif i <= n and (j > m or lcs[i + 1][j] >= lcs[i][j + 1]) then
      out[#out + 1] = '- ' .. a[i]
      i = i + 1
    else
      out[#out + 1] = '+ ' .. b[j]
      j = j + 1
    end
  end
  return table.concat(out, '\n')
end

describe('compiler data files', function()
  it('are there', function()
    assert.is_true(#cases >= 120, #cases .. ' cases')
  end)

  for _, case in ipairs(cases) do
    it(case.name .. ': ' .. (case.title or '?'), function()
      local prog, err = data.compile(case)
      if case.s.error then
        assert(not prog, 'compiled, but the case expects the error: ' .. case.s.error)
        assert(err:find(case.s.error, 1, true),
          ('expected an error containing\n  %s\ngot\n  %s'):format(case.s.error, err))
        return
      end
      assert(case.s.listing, 'no "-- listing" section: run make golden')
      assert(prog, err)
      local got = data.listing(prog)
      if got ~= case.s.listing and not regs_knob then
        error(('%s: the listing differs (- expected, + got; make golden rewrites it):\n%s')
          :format(case.path, diff(case.s.listing, got)), 0)
      end
    end)
  end
end)

-- The same programs in the kernel: real maps, the verifier, test runs.
describe('compiler data files in the kernel', function()
  local runs = {}
  for _, case in ipairs(cases) do
    if case.s.run and not case.s.error then runs[#runs + 1] = case end
  end

  local uid = io.popen('id -u'):read('*l')
  if uid ~= '0' then
    print(('\ncompile_data_spec: %d kernel runs left out (uid %s, not root)'):format(#runs, tostring(uid)))
    return
  end
  local loader = require('bpf.loader')

  for _, case in ipairs(runs) do
    it(case.name .. ' runs', function()
      local steps = data.run_steps(case)
      local maps = {}
      for _, spec in ipairs(data.map_specs(case)) do maps[spec.name] = data.kernel_map(spec) end
      local prog = assert(data.compile(case, maps))
      local ptype = case.s.type and case.s.type ~= '' and case.s.type or 'sched_cls'
      local handle = assert(prog:load(ptype))
      for n, step in ipairs(steps) do
        local what = ('step %d (%s)'):format(n, step.op)
        if step.op == 'packet' then
          local res = assert(loader.test_run(handle, data.frame(step.frame)))
          assert.are.equal(step.retval, res.retval, what .. ' on ' .. step.frame)
        elseif step.op == 'set' then
          maps[step.map][step.key] = step.value
        elseif step.op == 'check' then
          local v = maps[step.map][step.key]
          assert.are.equal(step.value, v ~= nil and tonumber(v) or nil, what .. ': ' .. step.map
            .. '[' .. step.key .. ']')
        end
      end
      handle:close()
      for _, m in pairs(maps) do m:close() end
    end)
  end
end)
