// 23. Eight rounds of xorshift32 seeded from skb->len, mark and priority.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int xorshift(struct __sk_buff *skb)
{
	__u32 x = skb->len ^ skb->mark << 8 ^ skb->priority;
	if (x == 0)
		x = 1;
	for (int i = 0; i < 8; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
	}
	return x;
}

char LICENSE[] SEC("license") = "GPL";
