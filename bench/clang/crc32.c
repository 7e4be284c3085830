// 24. CRC-32 (reflected, polynomial 0xedb88320) of the IPv4 addresses,
// bit by bit: two nested loops of constant bounds (8 bytes, 8 bits).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int crc32(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return 0;
	__u8 *p = (__u8 *)&ip->saddr;
	__u32 crc = 0xffffffff;
	for (int i = 0; i < 8; i++) {
		crc ^= p[i];
		for (int j = 0; j < 8; j++)
			crc = crc & 1 ? crc >> 1 ^ 0xedb88320 : crc >> 1;
	}
	return ~crc;
}

char LICENSE[] SEC("license") = "GPL";
