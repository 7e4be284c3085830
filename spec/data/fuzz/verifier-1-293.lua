-- fuzz failure: verifier (verifier: math between map_value pointer and register with unbounded min value is not allowed)
-- seed 1, program 293; replay: luajit tools/fuzz/main.lua --replay=fuzz-failures/spec-1/verifier-1-293.lua
-- fuzz:30: bpf: cannot load sched_cls program "lua_1" (53 instructions): Invalid argument (errno 22)
return {
  class = "verifier", seed = 1, program = 293, signature = "verifier: math between map_value pointer and register with unbounded min value is not allowed",
  source = [[
return function(skb)
  local x1 = skb.len
  local x2 = (skb.len / skb.len)
  local x3 = x2
  local x4 = skb.len
  local x5 = false
  if (1 < skb.len) then
  else
    x2 = skb.len
  end
  if false then
  else
    local v6 = arr64[0]
    if v6 then
      local x7 = x3
      x3 = 1
    end
  end
  local v8 = arr64[0]
  if v8 then
  end
  local v9 = arr32[0]
  if v9 then
    local v10 = hash64[1]
    if v10 then
    else
      v9[0] = 1
    end
  end
  return (((x1 - x2) + x3) - x4)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = skb.len
  local x2 = O.div(skb.len, skb.len)
  local x3 = x2
  local x4 = skb.len
  local x5 = false
  if (1LL < skb.len) then
  else
    x2 = skb.len
  end
  if false then
  else
    local v6 = O.get(arr64, 0LL)
    if v6 then
      local x7 = x3
      x3 = 1LL
    end
  end
  local v8 = O.get(arr64, 0LL)
  if v8 then
  end
  local v9 = O.get(arr32, 0LL)
  if v9 then
    local v10 = O.get(hash64, 1LL)
    if v10 then
    else
      O.wr(v9, 1LL)
    end
  end
  return (((x1 - x2) + x3) - x4)
end
]],
  packet = "8d169a586537ac0e8655f6640800467100360534da4f6c06e84acdb14a249cd4c57f32e5951d000090b679f80297282c0d2868d556b759463d6660daf3980091a5269bc6", -- 68 bytes
  ctx = { mark = 3263973386, priority = 1505836337, cb = { 2147483648, 4294967294, 2147483648, 65536, 3657251393 } },
  message = [[
fuzz:30: bpf: cannot load sched_cls program "lua_1" (53 instructions): Invalid argument (errno 22)
verifier log:
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0	-- fuzz:1
;  @ fuzz:1
0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()	-- fuzz:1
;  @ fuzz:2
1: (61) r7 = *(u32 *)(r6 +0)          ; R6=ctx() R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:2
;  @ fuzz:3
2: (61) r8 = *(u32 *)(r6 +0)          ; R6=ctx() R8=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:3
3: (61) r9 = *(u32 *)(r6 +0)          ; R6=ctx() R9=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:3
4: (3f) r8 /= r9                      ; R8=scalar() R9=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:3
;  @ fuzz:5
5: (61) r9 = *(u32 *)(r6 +0)          ; R6=ctx() R9=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:5
;  @ fuzz:7
6: (61) r1 = *(u32 *)(r6 +0)          ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:7
7: (d5) if r1 s<= 0x1 goto pc+2       ; R1=scalar(smin=umin=umin32=2,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:7
8: (bf) r1 = r8                       ; R1=scalar(id=1) R8=scalar(id=1)	-- fuzz:7
9: (05) goto pc+4	-- fuzz:7
;  @ fuzz:13
14: (62) *(u32 *)(r10 -8) = 0         ; R10=fp0 fp-8=????0	-- fuzz:13
15: (7b) *(u64 *)(r10 -16) = r1       ; R1=scalar(id=1) R10=fp0 fp-16=scalar(id=1)	-- fuzz:13
16: (18) r1 = 0xffff88812b39f600      ; R1=map_ptr(map=fz_arr64,ks=4,vs=8)	-- fuzz:13
18: (bf) r2 = r10                     ; R2=fp0 R10=fp0	-- fuzz:13
19: (07) r2 += -8                     ; R2=fp-8	-- fuzz:13
20: (85) call bpf_map_lookup_elem#1   ; R0=map_value(map=fz_arr64,ks=4,vs=8)	-- fuzz:13
;  @ fuzz:14
21: (15) if r0 == 0x0 goto pc+1       ; R0=map_value(map=fz_arr64,ks=4,vs=8)	-- fuzz:14
;  @ fuzz:19
22: (7a) *(u64 *)(r10 -16) = 1        ; R10=fp0 fp-16=1	-- fuzz:19
23: (62) *(u32 *)(r10 -24) = 0        ; R10=fp0 fp-24=????0	-- fuzz:19
24: (18) r1 = 0xffff88812b39f600      ; R1=map_ptr(map=fz_arr64,ks=4,vs=8)	-- fuzz:19
26: (bf) r2 = r10                     ; R2=fp0 R10=fp0	-- fuzz:19
27: (07) r2 += -24                    ; R2=fp-24	-- fuzz:19
28: (85) call bpf_map_lookup_elem#1   ; R0=map_value(map=fz_arr64,ks=4,vs=8)	-- fuzz:19
;  @ fuzz:22
29: (62) *(u32 *)(r10 -32) = 0        ; R10=fp0 fp-32=????0	-- fuzz:22
30: (18) r1 = 0xffff88812b39fc00      ; R1=map_ptr(map=fz_arr32,ks=4,vs=4)	-- fuzz:22
32: (bf) r2 = r10                     ; R2=fp0 R10=fp0	-- fuzz:22
33: (07) r2 += -32                    ; R2=fp-32	-- fuzz:22
34: (85) call bpf_map_lookup_elem#1   ; R0=map_value(map=fz_arr32,ks=4,vs=4)	-- fuzz:22
;  @ fuzz:23
35: (15) if r0 == 0x0 goto pc+11      ; R0=map_value(map=fz_arr32,ks=4,vs=4)	-- fuzz:23
;  @ fuzz:24
36: (7a) *(u64 *)(r10 -40) = 1        ; R10=fp0 fp-40=1	-- fuzz:24
37: (7b) *(u64 *)(r10 -16) = r0       ; R0=map_value(map=fz_arr32,ks=4,vs=4) R10=fp0 fp-16=map_value(map=fz_arr32,ks=4,vs=4)	-- fuzz:24
38: (18) r1 = 0xffff88811883c000      ; R1=map_ptr(map=fz_hash64,ks=8,vs=8)	-- fuzz:24
40: (bf) r2 = r10                     ; R2=fp0 R10=fp0	-- fuzz:24
41: (07) r2 += -40                    ; R2=fp-40	-- fuzz:24
42: (85) call bpf_map_lookup_elem#1   ; R0=map_value_or_null(id=2,map=fz_hash64,ks=8,vs=8)	-- fuzz:24
;  @ fuzz:25
43: (15) if r0 == 0x0 goto pc+1       ; R0=map_value(map=fz_hash64,ks=8,vs=8)	-- fuzz:25
44: (05) goto pc+2	-- fuzz:25
;  @ fuzz:30
47: (1f) r7 -= r8                     ; R7=scalar() R8=scalar(id=1)	-- fuzz:30
48: (79) r8 = *(u64 *)(r10 -16)       ; R8=map_value(map=fz_arr32,ks=4,vs=4) R10=fp0 fp-16=map_value(map=fz_arr32,ks=4,vs=4)	-- fuzz:30
49: (0f) r7 += r8	-- fuzz:30
math between map_value pointer and register with unbounded min value is not allowed
processed 40 insns (limit 1000000) max_states_per_insn 0 total_states 4 peak_states 4 mark_read 0]],
  shrunk_from = 2967, -- characters of source before shrinking (250 tries)
}
