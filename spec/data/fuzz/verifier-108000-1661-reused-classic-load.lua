-- fuzz failure: verifier (verifier: math between pkt pointer and register with unbounded min value is not allowed)
-- seed 108000, program 1661; replay: luajit tools/fuzz/main.lua --replay=/root/fzF/out/verifier-108000-1661.lua
-- fuzz:3: bpf: cannot load sched_cls program "lua_1" (113 instructions): Invalid argument (errno 22)
return {
  class = "verifier", seed = 108000, program = 1661, signature = "verifier: math between pkt pointer and register with unbounded min value is not allowed",
  source = [=[
return function(skb)
  for i5 = (-2), 2 do
    local v1 = hash32[pkt.ip[pkt[i5]]]
    if v1 then
    end
  end
end
]=],
  oracle_source = [[
return function(skb)
  do
    local i5, i5_limit = (-2LL), 2LL
    while i5 <= i5_limit do
      do
        local v1 = O.get(hash32, P:index('ip', P:index('eth', i5)))
        if v1 then
        end
      end
      i5 = i5 + 1LL
    end
  end
end
]],
  packet = "11418682e5f0fa014643e2e5080045940030c5941269de068b7e54c332408fc1bbeb0035f45ccc2b88b8d2a3008a5fef9ada97234d94fb82e7a804177586", -- 62 bytes
  ctx = { mark = 255, priority = 3, cb = { 9, 3, 19, 2043584929, 4294967295 } },
  message = [[
fuzz:3: bpf: cannot load sched_cls program "lua_1" (113 instructions): Invalid argument (errno 22)
verifier log:
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0	-- fuzz:1
;  @ fuzz:1
0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()	-- fuzz:1
1: (61) r7 = *(u32 *)(r6 +76)         ; R6=ctx() R7=pkt(r=0)	-- fuzz:1
2: (61) r8 = *(u32 *)(r6 +80)         ; R6=ctx() R8=pkt_end()	-- fuzz:1
3: (bf) r0 = r7                       ; R0=pkt(r=0) R7=pkt(r=0)	-- fuzz:1
4: (07) r0 += 3                       ; R0=pkt(off=3,r=0)	-- fuzz:1
5: (bd) if r0 <= r8 goto pc+10        ; R0=pkt(off=3,r=0xfffffffffffffffe) R8=pkt_end()	-- fuzz:1
6: (61) r2 = *(u32 *)(r6 +0)          ; R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=ctx()	-- fuzz:1
7: (b5) if r2 <= 0x3 goto pc+1        ; R2=scalar(smin=umin=umin32=4,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:1
8: (b7) r2 = 3                        ; R2=3	-- fuzz:1
9: (bf) r0 = r7                       ; R0=pkt(r=0) R7=pkt(r=0)	-- fuzz:1
10: (0f) r0 += r2                     ; R0=pkt(off=3,r=0) R2=3	-- fuzz:1
11: (bd) if r0 <= r8 goto pc+4        ; R0=pkt(off=3,r=0xfffffffffffffffe) R8=pkt_end()	-- fuzz:1
12: (bf) r1 = r6                      ; R1=ctx() R6=ctx()	-- fuzz:1
13: (85) call bpf_skb_pull_data#39    ; R0=scalar()	-- fuzz:1
14: (61) r7 = *(u32 *)(r6 +76)        ; R6=ctx() R7=pkt(r=0)	-- fuzz:1
15: (61) r8 = *(u32 *)(r6 +80)        ; R6=ctx() R8=pkt_end()	-- fuzz:1
;  @ fuzz:3
16: (30) r0 = *(u8 *)skb[2147483647]          ; R0=scalar() R6=ctx()	-- fuzz:3
17: (bf) r9 = r0                      ; R0=scalar(id=1) R9=scalar(id=1)	-- fuzz:3
18: (07) r0 += 14                     ; R0=scalar(id=1+14)	-- fuzz:3
19: (25) if r0 > 0xfffe goto pc+76 96: R0=scalar(id=1+14,umin=65535) R6=ctx() R7=pkt(r=0) R8=pkt_end() R9=scalar(id=1,umin=65521,umax=0xfffffffffffffff1) R10=fp0	-- fuzz:3
96: (50) r0 = *(u8 *)skb[r0 + 0]      ; R0=scalar() R6=ctx()	-- fuzz:3
97: (57) r0 &= 255                    ; R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))	-- fuzz:3
98: (05) goto pc-73	-- fuzz:3
26: (63) *(u32 *)(r10 -8) = r0        ; R0=scalar(id=23,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R10=fp0 fp-8=????scalar(id=23,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))	-- fuzz:3
27: (18) r1 = 0xffff88813b2abc00      ; R1=map_ptr(map=fz_hash32,ks=4,vs=4)	-- fuzz:3
29: (bf) r2 = r10                     ; R2=fp0 R10=fp0	-- fuzz:3
30: (07) r2 += -8                     ; R2=fp-8	-- fuzz:3
31: (85) call bpf_map_lookup_elem#1   ; R0=map_value_or_null(id=24,map=fz_hash32,ks=4,vs=4)	-- fuzz:3
32: (07) r9 += 14                     ; R9=scalar(id=1+14,umin=65535)	-- fuzz:3
33: (bf) r0 = r7                      ; R0=pkt(r=0) R7=pkt(r=0)	-- fuzz:3
34: (0f) r0 += r9	-- fuzz:3
math between pkt pointer and register with unbounded min value is not allowed
processed 147 insns (limit 1000000) max_states_per_insn 1 total_states 14 peak_states 14 mark_read 0]],
  shrunk_from = 562, -- characters of source before shrinking (47 tries)
}
