// 25. Linear histogram of skb->len: 64-byte buckets, the 16th for 960 and
// above, into a 16-slot array map; returns the bucket.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} hist SEC(".maps");

SEC("tc")
int len_linear(struct __sk_buff *skb)
{
	__u32 b = skb->len / 64;
	if (b > 15)
		b = 15;
	__u32 *v = bpf_map_lookup_elem(&hist, &b);
	if (v)
		__sync_fetch_and_add(v, 1);
	return b;
}

char LICENSE[] SEC("license") = "GPL";
