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

-- The ones' complement sum of s's 16-bit words (RFC 1071), folded, from sum.
local function ones(s, sum)
  sum = sum or 0
  if #s % 2 == 1 then s = s .. '\0' end
  for i = 1, #s, 2 do sum = sum + s:byte(i) * 256 + s:byte(i + 1) end
  while sum > 0xffff do sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16) end
  return sum
end

-- An Ethernet + IPv4 frame's parts: IP header, L4 protocol, L4 segment, their offsets.
local function ipv4_parts(frame)
  local ip = 15
  local ihl = bit.band(frame:byte(ip), 0x0f) * 4
  local tlen = frame:byte(ip + 2) * 256 + frame:byte(ip + 3)
  return ip, ihl, frame:byte(ip + 9), frame:sub(ip + ihl, ip + tlen - 1)
end

local l4_csum_at = { [6] = 16, [17] = 6 } -- the checksum's offset in TCP and UDP headers

-- The sum over the IPv4 pseudo-header and the segment (a right checksum makes
-- it 0xffff); UDP's pseudo-header takes the length its header says.
local function l4_sum(frame)
  local ip, _, proto, seg = ipv4_parts(frame)
  local len = proto == 17 and seg:byte(5) * 256 + seg:byte(6) or #seg
  local pseudo = frame:sub(ip + 12, ip + 19) .. '\0' .. string.char(proto) .. be16(len)
  return ones(seg, ones(pseudo))
end

-- frame with its IPv4 header checksum and its TCP or UDP checksum filled in.
function M.with_checksums(frame)
  local ip, ihl, proto = ipv4_parts(frame)
  local function put(s, at, v) return s:sub(1, at - 1) .. be16(v) .. s:sub(at + 2) end
  frame = put(frame, ip + 10, 0)
  frame = put(frame, ip + 10, bit.band(bit.bnot(ones(frame:sub(ip, ip + ihl - 1))), 0xffff))
  local at = l4_csum_at[proto]
  if at then
    frame = put(frame, ip + ihl + at, 0)
    local c = bit.band(bit.bnot(l4_sum(frame)), 0xffff)
    frame = put(frame, ip + ihl + at, (c == 0 and proto == 17) and 0xffff or c)
  end
  return frame
end

-- Whether the IPv4 header checksum and the TCP or UDP checksum of frame are
-- right (a UDP checksum of 0, none, counts as right).
function M.checksums_ok(frame)
  local ip, ihl, proto = ipv4_parts(frame)
  local ip_ok = ones(frame:sub(ip, ip + ihl - 1)) == 0xffff
  local at = l4_csum_at[proto]
  if not at then return ip_ok, nil end
  local c = frame:byte(ip + ihl + at) * 256 + frame:byte(ip + ihl + at + 1)
  if proto == 17 and c == 0 then return ip_ok, true end
  return ip_ok, l4_sum(frame) == 0xffff
end

return M
