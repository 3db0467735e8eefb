// SPDX-License-Identifier: MIT
/*
 * netbench: a UDP packet generator (dir=tx) or sink (dir=rx) for a fixed
 * time, for `pvkvm bench net`.
 *
 *   netbench dir=tx|rx [size=BYTES] [time_ms=MS] [warmup_ms=MS]
 *            [ip=A.B.C.D/N] [peer=A.B.C.D] [port=N] [mode=..] [nic=N]
 *            [spin_us=US]
 *
 * Defaults: size=64 (the whole Ethernet frame without FCS, 60..1514),
 * time_ms=2000, warmup_ms=200, ip=10.0.0.2/24, port=9 (discard).
 * tx: resolves peer (required) by ARP, then sends frames of `size` bytes
 *     to peer:port as fast as the driver takes them, flushing every 32;
 *     each carries a 64-bit sequence number (the UDP checksum updated
 *     incrementally, RFC 1624), so a sink can count what it lost.
 * rx: counts the datagrams to port that arrive in the window, which opens
 *     warmup_ms after the first one and lasts time_ms; gives up after 10 s
 *     without any. Frames not for us (ARP, ping) are handled as usual.
 * Lines for the host (bench_net.c):
 *   netbench: ready mode=.. mac=.. ip=..
 *   netbench: begin          (the window opens)
 *   netbench: end
 *   netbench: mode=.. dir=.. size=.. frames=.. bytes=.. elapsed_ns=..
 *             pps=.. mbps=.. kicks=.. sleeps=.. tx_full=.. lost=..
 * (kicks and sleeps are counted in the window).
 */
#include "console.h"
#include "kernel.h"
#include "klib.h"
#include "net_prog.h"
#include "time.h"

#define FLUSH_EVERY 32u
#define POLL_EVERY 256u
#define RX_IDLE_NS (10 * NS_PER_SEC)
#define SEQ_OFF (NETSTACK_UDP_HDRS) /* the payload's first 8 bytes */
#define UDP_CSUM_OFF (NET_ETH_HLEN + 20 + 6)

struct bench_result {
	uint64_t frames, bytes, elapsed_ns, kicks, sleeps, tx_full, lost;
};

/* RFC 1624: the checksum after a 16-bit word changes from old to new. */
static uint16_t csum_update(uint16_t sum, uint16_t old, uint16_t new_word)
{
	uint32_t s = (uint16_t)~sum + (uint32_t)(uint16_t)~old + new_word;

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void set_seq(uint8_t *frame, uint64_t seq)
{
	uint16_t sum = net_be16(frame + UDP_CSUM_OFF);

	for (int i = 0; i < 4; i++) {
		uint16_t old = net_be16(frame + SEQ_OFF + 2 * i);
		uint16_t w = (uint16_t)(seq >> (48 - 16 * i));

		net_put_be16(frame + SEQ_OFF + 2 * i, w);
		sum = csum_update(sum, old, w);
	}
	/* 0 means "no checksum" in UDP over IPv4. */
	net_put_be16(frame + UDP_CSUM_OFF, sum ? sum : 0xffff);
}

static uint64_t get_seq(const uint8_t *p)
{
	return (uint64_t)net_be32(p) << 32 | net_be32(p + 4);
}

static void snapshot(const struct net_dev *d, struct bench_result *r, int sign)
{
	r->kicks += (uint64_t)sign * d->counters.kicks;
	r->sleeps += (uint64_t)sign * d->counters.sleeps;
	r->tx_full += (uint64_t)sign * d->counters.tx_full;
}

/* ---- tx -------------------------------------------------------------------- */

static int run_tx(struct netstack *s, const struct net_prog_args *a,
		  struct bench_result *res)
{
	static uint8_t frame[NET_MAX_FRAME];
	uint8_t mac[NET_ETH_ALEN];
	size_t payload = a->size - NETSTACK_UDP_HDRS;
	uint64_t seq = 0, t0, window_end, measure_from, n = 0;
	bool measuring = false;

	if (netstack_resolve(s, a->peer, mac, now_ns() + 10 * NS_PER_SEC) < 0) {
		printf("netbench: peer does not answer ARP\n");
		return -PVKVM_ETIMEDOUT;
	}
	for (size_t i = 8; i < payload; i++)
		frame[SEQ_OFF + i] = (uint8_t)i;
	netstack_build_udp(s, frame, mac, a->peer, 40009, (uint16_t)a->port,
			   frame + SEQ_OFF, payload);
	t0 = now_ns();
	measure_from = t0 + a->warmup_ms * NS_PER_MS;
	window_end = measure_from + a->time_ms * NS_PER_MS;
	for (;;) {
		uint64_t now = now_ns();
		int r;

		if (!measuring && now >= measure_from) {
			net_flush(s->dev);
			printf("netbench: begin\n");
			measuring = true;
			measure_from = now_ns();
			window_end = measure_from + a->time_ms * NS_PER_MS;
			snapshot(s->dev, res, -1);
		}
		if (measuring && now >= window_end)
			break;
		set_seq(frame, seq);
		r = net_send(s->dev, frame, a->size);
		if (r == 0) {
			seq++;
			if (measuring) {
				res->frames++;
				res->bytes += a->size;
			}
			if (++n % FLUSH_EVERY == 0)
				net_flush(s->dev);
			if (n % POLL_EVERY == 0)
				netstack_poll(s);
		} else if (r == -PVKVM_EAGAIN) {
			net_flush(s->dev);
			net_wait(s->dev, window_end);
		} else {
			printf("netbench: send failed: error %d\n", r);
			return r;
		}
	}
	net_flush(s->dev);
	res->elapsed_ns = now_ns() - measure_from;
	snapshot(s->dev, res, 1);
	printf("netbench: end\n");
	return 0;
}

/* ---- rx -------------------------------------------------------------------- */

struct rx_state {
	const struct net_prog_args *a;
	struct bench_result *res;
	bool started, measuring, done;
	uint64_t measure_from, window_end, next_seq;
	struct net_dev *dev;
};

static void rx_window(struct rx_state *st, uint64_t now)
{
	if (!st->measuring && now >= st->measure_from) {
		printf("netbench: begin\n");
		st->measuring = true;
		st->measure_from = now_ns();
		st->window_end = now + st->a->time_ms * NS_PER_MS;
		snapshot(st->dev, st->res, -1);
	} else if (st->measuring && now >= st->window_end) {
		st->done = true;
	}
}

static void on_udp(struct netstack *s, uint32_t src_ip, uint16_t src_port,
		   uint16_t dst_port, const uint8_t *data, size_t len, void *arg)
{
	struct rx_state *st = arg;
	uint64_t now = now_ns();

	(void)s;
	(void)src_ip;
	(void)src_port;
	if (dst_port != st->a->port || st->done)
		return;
	if (!st->started) {
		st->started = true;
		st->measure_from = now + st->a->warmup_ms * NS_PER_MS;
	}
	rx_window(st, now);
	if (!st->measuring || st->done)
		return;
	st->res->frames++;
	st->res->bytes += len + NETSTACK_UDP_HDRS;
	if (len >= 8) {
		uint64_t seq = get_seq(data);

		if (st->res->frames > 1 && seq > st->next_seq)
			st->res->lost += seq - st->next_seq;
		st->next_seq = seq + 1;
	}
}

static int run_rx(struct netstack *s, const struct net_prog_args *a,
		  struct bench_result *res)
{
	static struct rx_state st;
	uint64_t idle_end = now_ns() + RX_IDLE_NS;

	st = (struct rx_state){ .a = a, .res = res, .dev = s->dev };
	netstack_on_udp(s, on_udp, &st);
	while (!st.done) {
		uint64_t now = now_ns();
		uint64_t deadline = st.measuring ? st.window_end : idle_end;

		if (st.started)
			rx_window(&st, now);
		if (!st.started && now > idle_end) {
			printf("netbench: no datagram in %llu s\n",
			       (unsigned long long)(RX_IDLE_NS / NS_PER_SEC));
			return -PVKVM_ETIMEDOUT;
		}
		if (!st.started)
			deadline = idle_end;
		else if (!st.measuring)
			deadline = st.measure_from;
		if (netstack_poll(s) == 0)
			net_wait(s->dev, deadline);
	}
	res->elapsed_ns = st.window_end - st.measure_from;
	snapshot(s->dev, res, 1);
	printf("netbench: end\n");
	return 0;
}

int prog_netbench(int argc, char **argv)
{
	static struct netstack s;
	struct net_prog_args a = { .mode = NET_MODE_AUTO, .cidr = "10.0.0.2/24",
				   .port = 9, .time_ms = 2000, .warmup_ms = 200,
				   .size = 64, .dir = "tx" };
	struct bench_result res = { 0 };
	bool tx;
	int r;

	if (!net_prog_parse("netbench", argc, argv, &a) ||
	    a.size < NET_ETH_ZLEN || a.size > NET_MAX_FRAME || !a.port ||
	    a.port > 65535 || !a.time_ms) {
		printf("usage: netbench dir=tx|rx [size=60..1514] [time_ms=MS] "
		       "[warmup_ms=MS] [ip=..] [peer=..] [port=N] [mode=..]\n");
		return 2;
	}
	tx = !strcmp(a.dir, "tx");
	if (tx && !a.peer) {
		printf("netbench: dir=tx needs peer=A.B.C.D\n");
		return 2;
	}
	if (net_prog_open("netbench", &a, &s) < 0)
		return 1;
	net_prog_ready("netbench", &s);
	r = tx ? run_tx(&s, &a, &res) : run_rx(&s, &a, &res);
	if (r < 0)
		return 1;
	printf("netbench: mode=%s dir=%s size=%llu frames=%llu bytes=%llu "
	       "elapsed_ns=%llu pps=%llu mbps=%llu kicks=%llu sleeps=%llu "
	       "tx_full=%llu lost=%llu\n",
	       net_mode_name(s.dev->info.mode), a.dir, (unsigned long long)a.size,
	       (unsigned long long)res.frames, (unsigned long long)res.bytes,
	       (unsigned long long)res.elapsed_ns,
	       (unsigned long long)(res.elapsed_ns ? res.frames * NS_PER_SEC / res.elapsed_ns : 0),
	       (unsigned long long)(res.elapsed_ns ? res.bytes * 8000 / res.elapsed_ns : 0),
	       (unsigned long long)res.kicks, (unsigned long long)res.sleeps,
	       (unsigned long long)res.tx_full, (unsigned long long)res.lost);
	return 0;
}
