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

-- Frames the specs and the compiler data files (spec/data/compile, `packet NAME`) run
-- programs on.
M.frames = {
  udp53 = M.eth_ip(17, M.udp(4000, 53, M.dns_query('example.com', 28))),   -- DNS AAAA query
  udp53_a = M.eth_ip(17, M.udp(4000, 53, M.dns_query('a.b', 1))),         -- DNS A query
  udp7777 = M.eth_ip(17, M.udp(1234, 7777, 'hello')),
  udp_opts = M.eth_ip(17, M.udp(1, 7777, 'x'), 7),                         -- IHL 7
  tcp80 = M.eth_ip(6, M.tcp(4000, 80, 'GET / HTTP/1.1\r\n')),
  tcp_post = M.eth_ip(6, M.tcp(4000, 80, 'POST / HTTP/1.1\r\n')),
  icmp = M.eth_ip(1, '\8\0\0\0\0\0\0\0'),                                  -- echo request
  proto_x = M.eth_ip(120, ''),                                             -- IPv4, protocol 120 ('x')
  ip6udp = string.rep('\0', 12) .. be16(0x86dd) .. '\x60\0\0\0' .. be16(8) .. '\17\64' ..
    string.rep('\0', 32) .. M.udp(1, 853, ''),
  short = string.rep('\0', 20),                                             -- too short for IPv4
}

return M
