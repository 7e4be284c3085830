-- Busted output handler: the usual terminal output, plus the totals written
-- to $BPF_TEST_COUNTS so that tools/run-tests.sh can add up several runs
-- (one per LuaJIT build) into the single closing line.
return function(options)
  local busted = require('busted')
  local handler = require('busted.outputHandlers.utfTerminal')(options)

  busted.subscribe({ 'suite', 'end' }, function()
    local path = os.getenv('BPF_TEST_COUNTS')
    if path then
      local f = assert(io.open(path, 'a'))
      f:write(string.format('%d %d\n', handler.successesCount,
        handler.failuresCount + handler.errorsCount))
      f:close()
    end
    return nil, true
  end)

  return handler
end
