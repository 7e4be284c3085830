-- Small packet builders for specs: Ethernet + IPv4 + UDP/TCP/ICMP frames.
local bit = require('bit')
local M = {}

local function be16(n) return string.char(bit.band(bit.rshift(n, 8), 0xff), bit.band(n, 0xff)) end
M.be16 = be16

function M.eth_ip(proto, payload, ihl)
  ihl = ihl or 5
  local opts = string.rep('\1', (ihl - 5) * 4) -- NOP options stretch the header
  local tlen = ihl * 4 + #payload
  local ip = string.char(0x40 + ihl, 0) .. be16(tlen) .. be16(1) .. be16(0) ..
    string.char(64, proto) .. be16(0) .. string.char(127, 0, 0, 1, 127, 0, 0, 1) .. opts
  return string.rep('\0', 12) .. be16(0x0800) .. ip .. payload
end

function M.udp(sport, dport, data)
  return be16(sport) .. be16(dport) .. be16(8 + #data) .. be16(0) .. data
end

function M.tcp(sport, dport, data)
  return be16(sport) .. be16(dport) .. string.rep('\0', 8) .. string.char(0x50, 0x18) ..
    be16(65535) .. be16(0) .. be16(0) .. data
end

-- A DNS query for name (labels) with the given qtype.
function M.dns_query(name, qtype)
  local q = ''
  for label in name:gmatch('[^.]+') do q = q .. string.char(#label) .. label end
  return be16(0x1234) .. be16(0x0100) .. be16(1) .. be16(0) .. be16(0) .. be16(0) ..
    q .. '\0' .. be16(qtype) .. be16(1)
end

return M
