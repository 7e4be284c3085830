-- fuzz failure: verifier (verifier: R# !read_ok)
-- seed 13000, program 55897; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/verifier-13000-55897.lua
-- fuzz:9: bpf: cannot load sched_cls program "lua_1" (72 instructions): Permission denied (errno 13)
return {
  class = "verifier", seed = 13000, program = 55897, signature = "verifier: R# !read_ok",
  source = [[
return function(skb)
  local x1 = 1
  local x2 = 0
  local x3 = skb.len
  local x4 = ffi.cast('int16_t', skb.len)
  local x5 = skb.len
  local x6 = x3
  for i22 = 0, bit.band(bit.bnot(x6), 7) do
    x1 = (0 % (x2 % x4))
    hash32[0] = 0
  end
  return bit.bxor(bit.bxor(bit.bxor(x1, x3), x5), x6)
end
]],
  oracle_source = [[
return function(skb)
  local x1 = 1LL
  local x2 = 0LL
  local x3 = skb.len
  local x4 = O.cast('int16_t', skb.len)
  local x5 = skb.len
  local x6 = x3
  do
    local i22, i22_limit = 0LL, bit.band(bit.bnot(x6), 7LL)
    while i22 <= i22_limit do
      do
        x1 = O.mod(0LL, O.mod(x2, x4))
        O.set(hash32, 0LL, 0LL)
      end
      i22 = i22 + 1LL
    end
  end
  return bit.bxor(bit.bxor(bit.bxor(x1, x3), x5), x6)
end
]],
  packet = "f6309a1912330278b97fe53808004530001e15fe6ca6a611dbd40c459df4df57018688f20fa0000a97deaf66", -- 44 bytes
  ctx = { mark = 65536, priority = 1, cb = { 3, 98430170, 16, 30, 754333276 } },
  message = [[
fuzz:9: bpf: cannot load sched_cls program "lua_1" (72 instructions): Permission denied (errno 13)
verifier log:
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0	-- fuzz:4
;  @ fuzz:4
0: (61) r7 = *(u32 *)(r1 +0)          ; R1=ctx() R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:4
;  @ fuzz:5
1: (61) r8 = *(u32 *)(r1 +0)          ; R1=ctx() R8=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:5
2: (67) r8 <<= 48                     ; R8=scalar(smax=0x7fff000000000000,umax=0xffff000000000000,smin32=0,smax32=umax32=0,var_off=(0x0; 0xffff000000000000))	-- fuzz:5
3: (c7) r8 s>>= 48                    ; R8=scalar(smin=smin32=-32768,smax=smax32=32767)	-- fuzz:5
;  @ fuzz:6
4: (61) r9 = *(u32 *)(r1 +0)          ; R1=ctx() R9=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:6
;  @ fuzz:8
5: (bf) r1 = r7                       ; R1=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R7=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:8
6: (a7) r1 ^= -1                      ; R1=scalar(smin=0xffffffff00000000,smax=-1,umin=0xffffffff00000000,var_off=(0xffffffff00000000; 0xffffffff))	-- fuzz:8
7: (57) r1 &= 7                       ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))	-- fuzz:8
8: (b7) r2 = 1                        ; R2=1	-- fuzz:8
9: (bf) r3 = r7                       ; R3=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R7=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:8
10: (c5) if r1 s< 0x0 goto pc+56      ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))	-- fuzz:8
;  @ fuzz:9
11: (b7) r4 = 0                       ; R4=0	-- fuzz:9
12: (b7) r5 = 0                       ; R5=0	-- fuzz:9
13: (7b) *(u64 *)(r10 -8) = r1        ; R1=scalar(id=2,smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7)) R10=fp0 fp-8=scalar(id=2,smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))	-- fuzz:9
14: (7b) *(u64 *)(r10 -16) = r2       ; R2=1 R10=fp0 fp-16=1	-- fuzz:9
15: (bf) r1 = r5                      ; R1=0 R5=0	-- fuzz:9
16: (af) r1 ^= r8                     ; R1=scalar() R8=scalar(smin=smin32=-32768,smax=smax32=32767)	-- fuzz:9
17: (bf) r2 = r8                      ; R2=scalar(id=3,smin=smin32=-32768,smax=smax32=32767) R8=scalar(id=3,smin=smin32=-32768,smax=smax32=32767)	-- fuzz:9
18: (75) if r2 s>= 0x0 goto pc+1      ; R2=scalar(id=3,smin=smin32=-32768,smax=smax32=-1,umin=0xffffffffffff8000,umin32=0xffff8000,var_off=(0xffffffffffff8000; 0x7fff))	-- fuzz:9
19: (87) r2 = -r2                     ; R2=scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=0x8000,var_off=(0x0; 0xffff))	-- fuzz:9
20: (75) if r5 s>= 0x0 goto pc+1      ; R5=0	-- fuzz:9
22: (9f) r5 %= r2                     ; R2=scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=0x8000,var_off=(0x0; 0xffff)) R5=scalar()	-- fuzz:9
23: (15) if r5 == 0x0 goto pc+5       ; R5=scalar(umin=1)	-- fuzz:9
24: (75) if r1 s>= 0x0 goto pc+2      ; R1=scalar(smax=-1,umin=0x8000000000000000,var_off=(0x8000000000000000; 0x7fffffffffffffff))	-- fuzz:9
25: (87) r5 = -r5                     ; R5=scalar(umin=1)	-- fuzz:9
26: (0f) r5 += r2                     ; R2=scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=0x8000,var_off=(0x0; 0xffff)) R5=scalar()	-- fuzz:9
27: (75) if r8 s>= 0x0 goto pc+1      ; R8=scalar(id=3,smin=smin32=-32768,smax=smax32=-1,umin=0xffffffffffff8000,umin32=0xffff8000,var_off=(0xffffffffffff8000; 0x7fff))	-- fuzz:9
28: (87) r5 = -r5                     ; R5=scalar()	-- fuzz:9
29: (b7) r1 = 0                       ; R1=0	-- fuzz:9
30: (7b) *(u64 *)(r10 -24) = r3       ; R3=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-24=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:9
31: (bf) r2 = r1                      ; R1=0 R2=0	-- fuzz:9
32: (af) r2 ^= r5                     ; R2=scalar() R5=scalar()	-- fuzz:9
33: (bf) r3 = r5                      ; R3=scalar(id=4) R5=scalar(id=4)	-- fuzz:9
34: (75) if r3 s>= 0x0 goto pc+1      ; R3=scalar(id=4,smax=-1,umin=0x8000000000000000,var_off=(0x8000000000000000; 0x7fffffffffffffff))	-- fuzz:9
35: (87) r3 = -r3                     ; R3=scalar(umin=1,umax=0x8000000000000000)	-- fuzz:9
36: (75) if r1 s>= 0x0 goto pc+1      ; R1=0	-- fuzz:9
38: (9f) r1 %= r3                     ; R1=scalar() R3=scalar(umin=1,umax=0x8000000000000000)	-- fuzz:9
39: (15) if r1 == 0x0 goto pc+5       ; R1=scalar(umin=1)	-- fuzz:9
40: (75) if r2 s>= 0x0 goto pc+2      ; R2=scalar(smax=-1,umin=0x8000000000000000,var_off=(0x8000000000000000; 0x7fffffffffffffff))	-- fuzz:9
41: (87) r1 = -r1                     ; R1=scalar(umin=1)	-- fuzz:9
42: (0f) r1 += r3                     ; R1=scalar() R3=scalar(umin=1,umax=0x8000000000000000)	-- fuzz:9
43: (75) if r5 s>= 0x0 goto pc+1      ; R5=scalar(id=4,smax=-1,umin=0x8000000000000000,var_off=(0x8000000000000000; 0x7fffffffffffffff))	-- fuzz:9
44: (87) r1 = -r1                     ; R1=scalar()	-- fuzz:9
;  @ fuzz:10
45: (62) *(u32 *)(r10 -32) = 0        ; R10=fp0 fp-32=????0	-- fuzz:10
46: (62) *(u32 *)(r10 -40) = 0        ; R10=fp0 fp-40=????0	-- fuzz:10
47: (7b) *(u64 *)(r10 -16) = r1       ; R1=scalar(id=5) R10=fp0 fp-16=scalar(id=5)	-- fuzz:10
48: (7b) *(u64 *)(r10 -48) = r4       ; R4=0 R10=fp0 fp-48=0	-- fuzz:10
49: (18) r1 = 0xffff888124963000      ; R1=map_ptr(map=fz_hash32,ks=4,vs=4)	-- fuzz:10
51: (bf) r2 = r10                     ; R2=fp0 R10=fp0	-- fuzz:10
52: (07) r2 += -32                    ; R2=fp-32	-- fuzz:10
53: (bf) r3 = r10                     ; R3=fp0 R10=fp0	-- fuzz:10
54: (07) r3 += -40                    ; R3=fp-40	-- fuzz:10
55: (b7) r4 = 0                       ; R4=0	-- fuzz:10
56: (85) call bpf_map_update_elem#2   ; R0=scalar()	-- fuzz:10
;  @ fuzz:8
57: (79) r1 = *(u64 *)(r10 -48)       ; R1=0 R10=fp0 fp-48=0	-- fuzz:8
58: (07) r1 += 1                      ; R1=1	-- fuzz:8
59: (79) r0 = *(u64 *)(r10 -8)        ; R0=scalar(id=2,smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7)) R10=fp0 fp-8=scalar(id=2,smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))	-- fuzz:8
60: (6d) if r1 s> r0 goto pc+4        ; R0=scalar(id=2,smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7)) R1=1	-- fuzz:8
61: (bf) r4 = r1                      ; R1=1 R4=1	-- fuzz:8
62: (79) r3 = *(u64 *)(r10 -24)       ; R3=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-24=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))	-- fuzz:8
63: (79) r1 = *(u64 *)(r10 -8)        ; R1=scalar(id=2,smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7)) R10=fp0 fp-8=scalar(id=2,smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))	-- fuzz:8
64: (05) goto pc-53	-- fuzz:8
;  @ fuzz:9
12: (b7) r5 = 0                       ; R5=0	-- fuzz:9
13: (7b) *(u64 *)(r10 -8) = r1        ; R1=scalar(id=2,smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7)) R10=fp0 fp-8=scalar(id=2,smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))	-- fuzz:9
14: (7b) *(u64 *)(r10 -16) = r2	-- fuzz:9
R2 !read_ok
processed 65 insns (limit 1000000) max_states_per_insn 0 total_states 5 peak_states 5 mark_read 0]],
  shrunk_from = 1608, -- characters of source before shrinking (191 tries)
}
