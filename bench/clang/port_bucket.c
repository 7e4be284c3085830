// 18. Per destination-port bucket (port >> 12: 16 buckets) of TCP and UDP:
// packets in one array map, bytes (skb->len, 64-bit) in another.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} packets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

SEC("tc")
int port_bucket(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	void *l4 = (void *)ip + ip->ihl * 4;
	__u16 port;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return 0;
		port = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return 0;
		port = udp->dest;
	} else {
		return 0;
	}
	__u32 b = bpf_ntohs(port) >> 12;
	__u32 *p = bpf_map_lookup_elem(&packets, &b);
	if (p)
		__sync_fetch_and_add(p, 1);
	__u64 *n = bpf_map_lookup_elem(&bytes, &b);
	if (n)
		__sync_fetch_and_add(n, skb->len);
	return b;
}

char LICENSE[] SEC("license") = "GPL";
