-- fuzz failure: verifier (verifier: at the time of BPF_LD_ABS|IND R# != pointer to skb)
-- seed 2026, program 40897; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/verifier-2026-40897.lua
-- fuzz:21: bpf: cannot load sched_cls program "lua_1" (63 instructions): Invalid argument (errno 22)
return {
  class = "verifier", seed = 2026, program = 40897, signature = "verifier: at the time of BPF_LD_ABS|IND R# != pointer to skb",
  source = [=[
return function(skb)
  local x1 = 0
  local x2 = 1
  local x3 = (x2 - skb.len)
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = 0
  local x8 = skb.len
  local x9 = skb.len
  if (skb.len >= 1) then
    x4 = 1
  else
    if (1 >= skb.len) then
      x7 = skb.len
    else
      x1 = skb.len
    end
    x5 = 0
  end
  local v10 = arr32[pkt.ip.udp[0]]
  if v10 then
    if x3 then
    end
  end
  return (bit.bxor((bit.bxor((((x1 + x2) + x4) + x5), x6) - x7), x8) * x9)
end
]=],
  oracle_source = [[
return function(skb)
  local x1 = 0LL
  local x2 = 1LL
  local x3 = (x2 - skb.len)
  local x4 = skb.len
  local x5 = skb.len
  local x6 = skb.len
  local x7 = 0LL
  local x8 = skb.len
  local x9 = skb.len
  if (skb.len >= 1LL) then
    x4 = 1LL
  else
    if (1LL >= skb.len) then
      x7 = skb.len
    else
      x1 = skb.len
    end
    x5 = 0LL
  end
  local v10 = O.get(arr32, P:index('l4', 0LL))
  if v10 then
    if x3 then
    end
  end
  return (bit.bxor((bit.bxor((((x1 + x2) + x4) + x5), x6) - x7), x8) * x9)
end
]],
  packet = "2b62820c899a2697cb3c334c08004563004da5db12906f06a06f2757842259c7fcca01bb13beb6e3aa003d4f46606e784f970293feb517b6711b0e81819525dc3215cf40ee645c8ac428731a067684100e3e04e8565b231109d03b", -- 91 bytes
  ctx = { mark = 65536, priority = 351664110, cb = { 10, 22, 7, 23, 2147483647 } },
  message = [[
fuzz:21: bpf: cannot load sched_cls program "lua_1" (63 instructions): Invalid argument (errno 22)
verifier log:
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0	-- fuzz:1
;  @ fuzz:1
0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()	-- fuzz:1
;  @ fuzz:4
1: (61) r7 = *(u32 *)(r6 +0)          ; R6=ctx() R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:4
2: (b7) r8 = 1                        ; R8=1	-- fuzz:4
3: (bf) r9 = r8                       ; R8=1 R9=1	-- fuzz:4
4: (1f) r9 -= r7                      ; R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R9=scalar(smin=0xffffffff00000002,smax=1)	-- fuzz:4
;  @ fuzz:5
5: (61) r7 = *(u32 *)(r6 +0)          ; R6=ctx() R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:5
;  @ fuzz:6
6: (61) r1 = *(u32 *)(r6 +0)          ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:6
;  @ fuzz:7
7: (61) r2 = *(u32 *)(r6 +0)          ; R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:7
;  @ fuzz:9
8: (61) r3 = *(u32 *)(r6 +0)          ; R3=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:9
;  @ fuzz:10
9: (61) r4 = *(u32 *)(r6 +0)          ; R4=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:10
;  @ fuzz:11
10: (61) r5 = *(u32 *)(r6 +0)         ; R5=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:11
11: (c5) if r5 s< 0x1 goto pc+4 16: R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R3=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R4=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R5=0 R6=ctx() R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R8=1 R9=scalar(smin=0xffffffff00000002,smax=1) R10=fp0	-- fuzz:11
;  @ fuzz:14
16: (61) r1 = *(u32 *)(r6 +0)         ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:14
17: (65) if r1 s> 0x1 goto pc+3       ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=1,var_off=(0x0; 0x1))	-- fuzz:14
;  @ fuzz:15
18: (61) r1 = *(u32 *)(r6 +0)         ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:15
19: (b7) r5 = 0                       ; R5=0	-- fuzz:15
20: (05) goto pc+3	-- fuzz:15
;  @ fuzz:21
24: (bf) r0 = r1                      ; R0=scalar(id=8,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R1=scalar(id=8,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
25: (bf) r6 = r5                      ; R5=0 R6=0	-- fuzz:21
26: (bf) r5 = r7                      ; R5=scalar(id=9,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R7=scalar(id=9,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
27: (bf) r7 = r6                      ; R6=0 R7=0	-- fuzz:21
28: (b7) r1 = 0                       ; R1=0	-- fuzz:21
29: (7b) *(u64 *)(r10 -8) = r0        ; R0=scalar(id=8,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=scalar(id=8,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
30: (7b) *(u64 *)(r10 -16) = r1       ; R1=0 R10=fp0 fp-16=0	-- fuzz:21
31: (7b) *(u64 *)(r10 -24) = r2       ; R2=scalar(id=10,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-24=scalar(id=10,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
32: (7b) *(u64 *)(r10 -32) = r3       ; R3=scalar(id=11,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-32=scalar(id=11,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
33: (7b) *(u64 *)(r10 -40) = r4       ; R4=scalar(id=12,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-40=scalar(id=12,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
34: (7b) *(u64 *)(r10 -48) = r5       ; R5=scalar(id=9,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-48=scalar(id=9,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
35: (30) r0 = *(u8 *)skb[14]	-- fuzz:21
at the time of BPF_LD_ABS|IND R6 != pointer to skb
processed 66 insns (limit 1000000) max_states_per_insn 1 total_states 3 peak_states 3 mark_read 0]],
  shrunk_from = 1388, -- characters of source before shrinking (588 tries)
}
