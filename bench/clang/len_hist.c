// 5. log2 histogram of skb->len into a 32-slot array map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u32);
} hist SEC(".maps");

// floor(log2(v)) for v > 0, branchless (the usual shift cascade)
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, s;
	r = (v > 0xffff) << 4; v >>= r;
	s = (v > 0xff) << 3; v >>= s; r |= s;
	s = (v > 0xf) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	return r | (v >> 1);
}

SEC("tc")
int len_hist(struct __sk_buff *skb)
{
	__u32 k = log2_u32(skb->len);
	__u32 *v = bpf_map_lookup_elem(&hist, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
