-- fuzz failure: verifier (verifier: math between pkt pointer and register with unbounded min value is not allowed)
-- seed 108000, program 30006; replay: luajit tools/fuzz/main.lua --replay=/root/fzF/out/verifier-108000-30006.lua
-- fuzz:5: bpf: cannot load sched_cls program "lua_1" (57 instructions): Invalid argument (errno 22)
return {
  class = "verifier", seed = 108000, program = 30006, signature = "verifier: math between pkt pointer and register with unbounded min value is not allowed",
  source = [=[
return function(skb)
  local x1 = 255
  local x2 = 0
  for i6 = 2, bit.band(x1, 3) do
    x2 = pkt.ip.udp.data[pkt[(-31)]]
  end
end
]=],
  oracle_source = [[
return function(skb)
  local x1 = 255LL
  local x2 = 0LL
  do
    local i6, i6_limit = 2LL, bit.band(x1, 3LL)
    while i6 <= i6_limit do
      do
        x2 = P:index('udpdata', P:index('eth', (-31LL)))
      end
      i6 = i6 + 1LL
    end
  end
end
]],
  packet = "51851826b83c2c7e5721ff0586dd6baf8238003311ee88798e3ed946419e2f74a8fab29105a547534afb161b7479e9bc6be6dd182edb420f01bb0033fc81be313b7ad1fc27f7e8c687c1a36bdedf57340f7f609e0c33dbf9de1cc45721095b1a59f56f40c8e7c15397", -- 105 bytes
  ctx = { mark = 3361162075, priority = 3, cb = { 7, 3, 7, 24, 4294967295 } },
  message = [[
fuzz:5: bpf: cannot load sched_cls program "lua_1" (57 instructions): Invalid argument (errno 22)
verifier log:
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0	-- fuzz:1
;  @ fuzz:1
0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()	-- fuzz:1
1: (61) r7 = *(u32 *)(r6 +76)         ; R6=ctx() R7=pkt(r=0)	-- fuzz:1
2: (61) r8 = *(u32 *)(r6 +80)         ; R6=ctx() R8=pkt_end()	-- fuzz:1
3: (bf) r0 = r7                       ; R0=pkt(r=0) R7=pkt(r=0)	-- fuzz:1
4: (07) r0 += 15                      ; R0=pkt(off=15,r=0)	-- fuzz:1
5: (bd) if r0 <= r8 goto pc+10        ; R0=pkt(off=15,r=0xfffffffffffffffe) R8=pkt_end()	-- fuzz:1
6: (61) r2 = *(u32 *)(r6 +0)          ; R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:1
7: (b5) if r2 <= 0xf goto pc+1        ; R2=scalar(smin=umin=umin32=16,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:1
8: (b7) r2 = 15                       ; R2=15	-- fuzz:1
9: (bf) r0 = r7                       ; R0=pkt(r=0) R7=pkt(r=0)	-- fuzz:1
10: (0f) r0 += r2                     ; R0=pkt(off=15,r=0) R2=15	-- fuzz:1
11: (bd) if r0 <= r8 goto pc+4        ; R0=pkt(off=15,r=0xfffffffffffffffe) R8=pkt_end()	-- fuzz:1
12: (bf) r1 = r6                      ; R1=ctx() R6=ctx()	-- fuzz:1
13: (85) call bpf_skb_pull_data#39    ; R0=scalar()	-- fuzz:1
14: (61) r7 = *(u32 *)(r6 +76)        ; R6=ctx() R7=pkt(r=0)	-- fuzz:1
15: (61) r8 = *(u32 *)(r6 +80)        ; R6=ctx() R8=pkt_end()	-- fuzz:1
;  @ fuzz:5
16: (bf) r0 = r7                      ; R0=pkt(r=0) R7=pkt(r=0)	-- fuzz:5
17: (07) r0 += 15                     ; R0=pkt(off=15,r=0)	-- fuzz:5
18: (2d) if r0 > r8 goto pc+36        ; R0=pkt(off=15,r=15) R8=pkt_end()	-- fuzz:5
19: (71) r0 = *(u8 *)(r7 +14)         ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R7=pkt(r=15)	-- fuzz:5
20: (7b) *(u64 *)(r10 -8) = r0        ; R0=scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R10=fp0 fp-8=scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))	-- fuzz:5
21: (bf) r9 = r0                      ; R0=scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R9=scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))	-- fuzz:5
22: (57) r9 &= 15                     ; R9=scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))	-- fuzz:5
23: (67) r9 <<= 2                     ; R9=scalar(smin=smin32=0,smax=umax=smax32=umax32=60,var_off=(0x0; 0x3c))	-- fuzz:5
24: (07) r9 += 14                     ; R9=scalar(smin=umin=smin32=umin32=14,smax=umax=smax32=umax32=74,var_off=(0x2; 0x7c))	-- fuzz:5
25: (07) r9 += 8                      ; R9=scalar(smin=umin=smin32=umin32=22,smax=umax=smax32=umax32=82,var_off=(0x2; 0x7c))	-- fuzz:5
26: (30) r0 = *(u8 *)skb[2147483647]          ; R0=scalar() R6=ctx()	-- fuzz:5
27: (7b) *(u64 *)(r10 -16) = r0       ; R0=scalar(id=2) R10=fp0 fp-16=scalar(id=2)	-- fuzz:5
28: (0f) r9 += r0                     ; R0=scalar(id=2) R9=scalar()	-- fuzz:5
29: (25) if r9 > 0xfffe goto pc+19    ; R9=scalar(smin=smin32=0,smax=umax=smax32=umax32=0xfffe,var_off=(0x0; 0xffff))	-- fuzz:5
30: (bf) r0 = r7                      ; R0=pkt(r=15) R7=pkt(r=15)	-- fuzz:5
31: (0f) r0 += r9                     ; R0=pkt(id=3,r=0,smin=smin32=0,smax=umax=smax32=umax32=0xfffe,var_off=(0x0; 0xffff)) R9=scalar(smin=smin32=0,smax=umax=smax32=umax32=0xfffe,var_off=(0x0; 0xffff))	-- fuzz:5
32: (bf) r1 = r0                      ; R0=pkt(id=3,r=0,smin=smin32=0,smax=umax=smax32=umax32=0xfffe,var_off=(0x0; 0xffff)) R1=pkt(id=3,r=0,smin=smin32=0,smax=umax=smax32=umax32=0xfffe,var_off=(0x0; 0xffff))	-- fuzz:5
33: (07) r1 += 1                      ; R1=pkt(id=3,off=1,r=0,smin=smin32=0,smax=umax=smax32=umax32=0xfffe,var_off=(0x0; 0xffff))	-- fuzz:5
34: (2d) if r1 > r8 goto pc+14        ; R1=pkt(id=3,off=1,r=1,smin=smin32=0,smax=umax=smax32=umax32=0xfffe,var_off=(0x0; 0xffff)) R8=pkt_end()	-- fuzz:5
35: (71) r0 = *(u8 *)(r0 +0)          ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))	-- fuzz:5
36: (79) r0 = *(u64 *)(r10 -8)        ; R0=scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R10=fp0 fp-8=scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))	-- fuzz:5
37: (57) r0 &= 15                     ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))	-- fuzz:5
38: (67) r0 <<= 2                     ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=60,var_off=(0x0; 0x3c))	-- fuzz:5
39: (07) r0 += 14                     ; R0=scalar(smin=umin=smin32=umin32=14,smax=umax=smax32=umax32=74,var_off=(0x2; 0x7c))	-- fuzz:5
40: (07) r0 += 8                      ; R0=scalar(smin=umin=smin32=umin32=22,smax=umax=smax32=umax32=82,var_off=(0x2; 0x7c))	-- fuzz:5
41: (79) r1 = *(u64 *)(r10 -16)       ; R1=scalar(id=2) R10=fp0 fp-16=scalar(id=2)	-- fuzz:5
42: (0f) r0 += r1                     ; R0=scalar() R1=scalar(id=2)	-- fuzz:5
43: (0f) r7 += r0	-- fuzz:5
math between pkt pointer and register with unbounded min value is not allowed
processed 44 insns (limit 1000000) max_states_per_insn 0 total_states 3 peak_states 3 mark_read 0]],
  shrunk_from = 348, -- characters of source before shrinking (48 tries)
}
