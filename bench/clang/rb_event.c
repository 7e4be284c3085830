// 27. A 12-byte event per frame long enough for IPv4 (skb->len, skb->mark,
// the ethertype, IP protocol and TTL) sent with bpf_ringbuf_output; returns its result.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); // room for the timed runs' records
} events SEC(".maps");

struct event {
	__u32 len, mark;
	__u16 etype;
	__u8 proto, ttl;
};

SEC("tc")
int rb_event(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return 0;
	struct event e = {
		.len = skb->len, .mark = skb->mark, .etype = bpf_ntohs(eth->h_proto),
		.proto = ip->protocol, .ttl = ip->ttl,
	};
	return bpf_ringbuf_output(&events, &e, sizeof(e), 0);
}

char LICENSE[] SEC("license") = "GPL";
