-- fuzz failure: verifier (verifier: R# !read_ok)
-- seed 2026, program 68401; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/verifier-2026-68401.lua
-- fuzz:21: bpf: cannot load sched_cls program "lua_1" (45 instructions): Permission denied (errno 13)
return {
  class = "verifier", seed = 2026, program = 68401, signature = "verifier: R# !read_ok",
  source = [[
return function(skb)
  local x1 = 1
  local x2 = skb.len
  local x3 = skb.len
  local x4 = 1339360799202056455LL
  local x5 = skb.len
  local x6 = skb.len
  local x7 = x4
  local x8 = skb.len
  local x9 = 0
  local x10 = skb.len
  if (0 >= skb.len) then
    if (0 == skb.len) then
      x7 = skb.len
    end
  else
    x1 = 0
    x9 = 1
    x4 = 0
  end
  return (((((((((x1 - x2) + x3) + x4) * x5) - x6) - x7) + x8) + x9) + x10)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = 1LL
  local x2 = skb.len
  local x3 = skb.len
  local x4 = 1339360799202056455LL
  local x5 = skb.len
  local x6 = skb.len
  local x7 = x4
  local x8 = skb.len
  local x9 = 0LL
  local x10 = skb.len
  if (0LL >= skb.len) then
    if (0LL == skb.len) then
      x7 = skb.len
    end
  else
    x1 = 0LL
    x9 = 1LL
    x4 = 0LL
  end
  return (((((((((x1 - x2) + x3) + x4) * x5) - x6) - x7) + x8) + x9) + x10)
end
]],
  packet = "986ea6d97850486595ef3de30800469f003ba04522eca606a6e93d4c7995b7a45e9207df481c000166944d2b963bb51254116be6ad6f018130239983107f3e9e21f6109f6b3a9e0ac6", -- 73 bytes
  ctx = { mark = 1334736888, priority = 2147483647, cb = { 1, 23, 4294967295, 8, 3667596538 } },
  message = [[
fuzz:21: bpf: cannot load sched_cls program "lua_1" (45 instructions): Permission denied (errno 13)
verifier log:
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0	-- fuzz:1
;  @ fuzz:1
0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()	-- fuzz:1
;  @ fuzz:3
1: (61) r7 = *(u32 *)(r6 +0)          ; R6=ctx() R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:3
;  @ fuzz:4
2: (61) r8 = *(u32 *)(r6 +0)          ; R6=ctx() R8=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:4
;  @ fuzz:6
3: (61) r9 = *(u32 *)(r6 +0)          ; R6=ctx() R9=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:6
;  @ fuzz:7
4: (61) r1 = *(u32 *)(r6 +0)          ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:7
;  @ fuzz:9
5: (61) r2 = *(u32 *)(r6 +0)          ; R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:9
;  @ fuzz:11
6: (61) r3 = *(u32 *)(r6 +0)          ; R3=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:11
;  @ fuzz:12
7: (61) r4 = *(u32 *)(r6 +0)          ; R4=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:12
8: (65) if r4 s> 0x0 goto pc+13 22: R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R3=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R4=scalar(smin=umin=umin32=1,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx() R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R8=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R9=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0	-- fuzz:12
22: (bf) r4 = r7                      ; R4=scalar(id=4,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R7=scalar(id=4,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
23: (7b) *(u64 *)(r10 -8) = r4        ; R4=scalar(id=4,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=scalar(id=4,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:21
24: (7b) *(u64 *)(r10 -24) = r0	-- fuzz:21
R0 !read_ok
processed 37 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0]],
  shrunk_from = 3117, -- characters of source before shrinking (610 tries)
}
