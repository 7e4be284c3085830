// 30. Arithmetic on skb fields: (len * 3 + mark) % 1021, priority << 16,
// ifindex * 7 and the ethertype in skb->protocol (network order there), summed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int skb_arith(struct __sk_buff *skb)
{
	// 64-bit, as Lua's numbers are: no wrap before the %
	return ((__u64)skb->len * 3 + skb->mark) % 1021 + (skb->priority << 16) + skb->ifindex * 7 +
	       bpf_ntohs(skb->protocol);
}

char LICENSE[] SEC("license") = "GPL";
