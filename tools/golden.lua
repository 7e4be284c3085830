-- Regenerate the expected listings of the compiler data files in
-- spec/data/compile from the current compiler (make golden).
--
--   luajit tools/golden.lua [FILE.data ...]   every case (or those named): rewrite its
--                                             "-- listing" section, print the files that changed
--   luajit tools/golden.lua --new NAME [FILE] a new case NAME.data from FILE (or stdin): a bare
--                                             Lua chunk, or a data file without its listing
--                                             (sections as in spec/support/compile_data.lua)
--
-- Only the lines of a "-- listing" section change; "-- error" cases and every
-- other section stay byte for byte.  A case with neither section gets a
-- listing (before its "-- run" section, if it has one).  A case whose
-- listing no longer compiles, or whose expected error no longer happens, is
-- reported and left alone, and the exit status is 1.
-- Run from the top of the tree with the paths of `make` (LUA_PATH, LUA_CPATH).
local data = require('spec.support.compile_data')

local function read(path)
  local f = assert(io.open(path, 'rb'))
  local text = f:read('*a')
  f:close()
  return text
end

local function write(path, text)
  local f = assert(io.open(path, 'wb'))
  f:write(text)
  f:close()
end

-- The file's lines, and whether it ended with a newline.
local function split(text)
  local lines, nl = {}, text:sub(-1) == '\n'
  for l in (nl and text or text .. '\n'):gmatch('(.-)\n') do lines[#lines + 1] = l end
  return lines, nl
end

local function header(l)
  local sec = l:match('^%-%- (%a+)%s*$')
  return sec and data.is_section[sec] and sec
end

-- text with its listing section holding listing (a string of lines).
local function with_listing(text, listing)
  local lines, nl = split(text)
  local out, i, done = {}, 1, false
  while i <= #lines do
    local sec = header(lines[i])
    if sec == 'listing' then
      out[#out + 1] = lines[i]
      local j = i + 1
      while j <= #lines and not header(lines[j]) do j = j + 1 end
      local blanks = {} -- blank lines before the next section stay
      local k = j - 1
      while k > i and not lines[k]:match('%S') do
        table.insert(blanks, 1, lines[k])
        k = k - 1
      end
      for l in (listing .. '\n'):gmatch('(.-)\n') do out[#out + 1] = l end
      for _, b in ipairs(blanks) do out[#out + 1] = b end
      i, done = j, true
    elseif sec == 'run' and not done then
      out[#out + 1] = '-- listing'
      for l in (listing .. '\n'):gmatch('(.-)\n') do out[#out + 1] = l end
      done = true
    else
      out[#out + 1] = lines[i]
      i = i + 1
    end
  end
  if not done then
    while #out > 0 and not out[#out]:match('%S') do out[#out] = nil end
    out[#out + 1] = '-- listing'
    for l in (listing .. '\n'):gmatch('(.-)\n') do out[#out + 1] = l end
    nl = true
  end
  return table.concat(out, '\n') .. (nl and '\n' or '')
end

-- Brings one file up to date; returns 'changed', 'same' or nil, why.
local function regenerate(path)
  local text = read(path)
  local case = data.parse(text, path)
  local prog, err = data.compile(case)
  if case.s.error then
    if prog then return nil, 'compiles, but the case expects the error: ' .. case.s.error end
    if not err:find(case.s.error, 1, true) then
      return nil, ('expects the error %q, got: %s'):format(case.s.error, err)
    end
    return 'same'
  end
  if not prog then return nil, err end
  local listing = data.listing(prog)
  if case.s.listing == listing then return 'same' end
  write(path, with_listing(text, listing))
  return 'changed'
end

-- The message without the "file:line: " in front.
local function bare(err)
  return (tostring(err):gsub('^[^\n]-%.data:%d+: ', ''))
end

local function new_case(name, from)
  local path = data.datadir .. name .. '.data'
  if io.open(path, 'rb') then
    io.stderr:write(path, ' exists; edit it, or remove it first\n')
    os.exit(1)
  end
  local src
  if from then src = read(from) else src = io.read('*a') end
  local text
  if src:match('^#') and src:match('\n%-%- source%s*\n') then
    text = src:gsub('%s+$', '') .. '\n'
  else
    text = '# ' .. name .. '\n-- source\n' .. src:gsub('%s+$', '') .. '\n'
  end
  local case = data.parse(text, path)
  local prog, err = data.compile(case)
  if case.s.listing or case.s.error then
    io.stderr:write(name, ': has its listing or error already; written as given\n')
  elseif prog then
    text = with_listing(text, data.listing(prog))
  else
    text = text .. '-- error\n' .. bare(err) .. '\n'
    io.stderr:write(name, ': does not compile, written as an error case: ', bare(err), '\n')
  end
  write(path, text)
  print('new ' .. path)
end

local args = { ... }
if args[1] == '--new' then
  if not args[2] or not args[2]:match('^[%w_.-]+$') then
    io.stderr:write('usage: tools/golden.lua --new NAME [FILE]\n')
    os.exit(2)
  end
  new_case(args[2], args[3])
  os.exit(0)
end

local paths = #args > 0 and args or data.paths()
local changed, failed = 0, 0
for _, path in ipairs(paths) do
  local ok, res, why = pcall(regenerate, path)
  if not ok then res, why = nil, res end
  if res == 'changed' then
    changed = changed + 1
    print('changed ' .. path)
  elseif not res then
    failed = failed + 1
    io.stderr:write(path, ': ', tostring(why), '\n')
  end
end
print(('%d cases, %d changed, %d left alone with errors'):format(#paths, changed, failed))
os.exit(failed > 0 and 1 or 0)
