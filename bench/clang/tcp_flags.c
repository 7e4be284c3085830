// 12. Count each TCP flag set (bit i of the flags byte, FIN = 0 ... CWR = 7)
// into an 8-slot array map; returns how many flags were set.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} flags SEC(".maps");

SEC("tc")
int tcp_flags(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP)
		return 0;
	struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > data_end)
		return 0;
	__u8 byte = ((__u8 *)tcp)[13];
	int n = 0;
	for (int i = 0; i < 8; i++) {
		if (byte & (1 << i)) {
			__u32 k = i;
			__u32 *v = bpf_map_lookup_elem(&flags, &k);
			if (v)
				__sync_fetch_and_add(v, 1);
			n++;
		}
	}
	return n;
}

char LICENSE[] SEC("license") = "GPL";
