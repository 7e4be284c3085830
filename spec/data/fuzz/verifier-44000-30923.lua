-- fuzz failure: verifier (verifier: old state: R#=scalar(id=#) R#=Pscalar(smin=smin#=-#,smax=smax#=-#,umin=#xfffffffffffffffe,umin#=#xfffffffe,var_off=(#xfffffffffffffffe; #x#)) R#=ctx() R#=fp#)
-- seed 44000, program 30923; replay: luajit tools/fuzz/main.lua --replay=spec/data/fuzz/verifier-44000-30923.lua
-- fuzz:4: bpf: cannot load sched_cls program "lua_1" (14 instructions): Invalid argument (errno 22)
return {
  class = "verifier", seed = 44000, program = 30923, signature = "verifier: old state: R#=scalar(id=#) R#=Pscalar(smin=smin#=-#,smax=smax#=-#,umin=#xfffffffffffffffe,umin#=#xfffffffe,var_off=(#xfffffffffffffffe; #x#)) R#=ctx() R#=fp#",
  source = [[
return function(skb)
  local x1 = 0
  local x2 = pkt[0]
  for i4 = bit.band(bit.tobit(x2), 15), (-2), -1 do
    local x3 = ((i4 >= i4) and 0)
    x1 = ffi.cast('int64_t', x2)
  end
end
]],
  oracle_source = [[
return function(skb)
  local x1 = 0LL
  local x2 = P:index('eth', 0LL)
  do
    local i4, i4_limit = bit.band(O.tobit(x2), 15LL), (-2LL)
    while i4 >= i4_limit do
      do
        local x3 = ((i4 >= i4) and 0LL)
        x1 = O.cast('int64_t', x2)
      end
      i4 = i4 + -1LL
    end
  end
end
]],
  packet = "606f8ebf978afe795e0fc51e0800454a002747eeb652e611baccab3f49f0c7321be301bb000100139cfccc8dccd7da314eb787259a", -- 53 bytes
  ctx = { mark = 2147483647, priority = 2147483648, cb = { 4154317512, 3007688568, 20, 1, 902106490 } },
  message = [[
fuzz:4: bpf: cannot load sched_cls program "lua_1" (14 instructions): Invalid argument (errno 22)
verifier log:
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0	-- fuzz:3
;  @ fuzz:3
0: (bf) r6 = r1                       ; R1=ctx() R6=ctx()	-- fuzz:3
1: (30) r0 = *(u8 *)skb[0]            ; R0=scalar() R6=ctx()	-- fuzz:3
;  @ fuzz:4
2: (bf) r1 = r0                       ; R0=scalar(id=1) R1=scalar(id=1)	-- fuzz:4
3: (67) r1 <<= 32                     ; R1=scalar(smax=0x7fffffff00000000,umax=0xffffffff00000000,smin32=0,smax32=umax32=0,var_off=(0x0; 0xffffffff00000000))	-- fuzz:4
4: (c7) r1 s>>= 32                    ; R1=scalar(smin=0xffffffff80000000,smax=0x7fffffff)	-- fuzz:4
5: (57) r1 &= 15                      ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))	-- fuzz:4
6: (c5) if r1 s< 0xfffffffe goto pc+5         ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-1,smax=smax32=14)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-1,smax=smax32=14)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-1,smax=smax32=14)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-2,smax=smax32=13)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=13)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=13)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=12)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=12)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=12)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=11)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=11)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=11)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=10)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=10)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=10)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=9)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=9)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=9)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=8)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=8)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=8)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=7)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=7)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=7)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=6)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=6)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=6)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=5)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=5)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=5)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=4)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=4)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=4)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=3)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=3)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=3)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=2)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=2)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=2)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=1)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=1)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=1)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=0)	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=0)	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1         ; R1=scalar(smin=smin32=-2,smax=smax32=0)	-- fuzz:5
8: (05) goto pc+0	-- fuzz:5
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-3,smax=smax32=-1,umin=0xfffffffffffffffd,umin32=0xfffffffd,var_off=(0xfffffffffffffffc; 0x3))	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1))	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1	-- fuzz:5
9: R0=scalar(id=1) R1=scalar(var_off=(0xfffffffffffffffe; 0x1)) R6=ctx() R10=fp0	-- fuzz:4
;  @ fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-4,smax=smax32=-1,umin=0xfffffffffffffffc,umin32=0xfffffffc,var_off=(0xfffffffffffffffc; 0x3))	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1))	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1	-- fuzz:5
9: R0=scalar(id=1) R1=scalar(var_off=(0xfffffffffffffffe; 0x1)) R6=ctx() R10=fp0	-- fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-4,smax=smax32=-1,umin=0xfffffffffffffffc,umin32=0xfffffffc,var_off=(0xfffffffffffffffc; 0x3))	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1))	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1	-- fuzz:5
9: R0=scalar(id=1) R1=scalar(var_off=(0xfffffffffffffffe; 0x1)) R6=ctx() R10=fp0	-- fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-4,smax=smax32=-1,umin=0xfffffffffffffffc,umin32=0xfffffffc,var_off=(0xfffffffffffffffc; 0x3))	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1))	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
7: (6d) if r1 s> r1 goto pc+1	-- fuzz:5
9: R0=scalar(id=1) R1=scalar(var_off=(0xfffffffffffffffe; 0x1)) R6=ctx() R10=fp0	-- fuzz:4
9: (07) r1 += -1                      ; R1=scalar(smin=smin32=-4,smax=smax32=-1,umin=0xfffffffffffffffc,umin32=0xfffffffc,var_off=(0xfffffffffffffffc; 0x3))	-- fuzz:4
10: (c5) if r1 s< 0xfffffffe goto pc+1        ; R1=scalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1))	-- fuzz:4
11: (05) goto pc-5	-- fuzz:4
;  @ fuzz:5
infinite loop detected at insn 7
cur state: R0=scalar(id=1) R1=scalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1)) R6=ctx() R10=fp0
old state: R0=scalar(id=1) R1=Pscalar(smin=smin32=-2,smax=smax32=-1,umin=0xfffffffffffffffe,umin32=0xfffffffe,var_off=(0xfffffffffffffffe; 0x1)) R6=ctx() R10=fp0
processed 145 insns (limit 1000000) max_states_per_insn 3 total_states 7 peak_states 7 mark_read 0]],
  shrunk_from = 379, -- characters of source before shrinking (85 tries)
}
