/*
 * keepvip_net: the raw sockets Node cannot give us.
 *
 *  - AF_PACKET SOCK_RAW bound to one interface, send-only: gratuitous ARP and
 *    unsolicited neighbour advertisements are whole Ethernet frames.
 *  - AF_INET SOCK_RAW for one IP protocol (VRRP, 112) with IP_HDRINCL: raw4Send()
 *    writes the IPv4 header itself (source, TTL, TOS), and an IPv4 raw socket hands
 *    over whole packets, header included, so the TTL and addresses are read from it.
 *  - AF_INET6 SOCK_RAW for one IP protocol, read with recvmsg() and
 *    IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO: an IPv6 raw socket hands over the
 *    payload only, and RFC 5798 §7.1 needs the hop limit, the destination and the
 *    arrival interface to accept or drop a packet.
 *  - AF_NETLINK NETLINK_ROUTE (rtnetlink(7)), not tied to an interface: VIPs are
 *    added, removed and dumped, links looked up and watched. The messages are
 *    built and parsed in TypeScript (src/netlink/); this side only moves bytes.
 *  - AF_NETLINK NETLINK_NETFILTER, the same way: ctnetlink requests that delete
 *    conntrack entries (src/conntrack/).
 *
 * Every socket is non-blocking. Readiness comes from a uv_poll_t on the fd, so
 * Node's loop is never blocked; JavaScript then drains the socket with recv4Into(),
 * recv6Into() or netlinkRecvInto() until it reports EAGAIN. Those read into memory
 * the caller owns and reuses, so receiving allocates nothing per packet; sending is
 * one system call with no JavaScript object made. Failures are returned, never thrown: a function
 * gives back its result or the errno name as a string ("EPERM", "EAGAIN", ...),
 * which the TypeScript layer turns into Result values or named errors. Only misuse
 * (wrong argument types, a handle of another kind) throws a TypeError.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

/* What a handle is; each function accepts its own kind only. */
typedef enum kv_kind { KV_PACKET, KV_RAW4, KV_RAW6, KV_NETLINK } kv_kind;

typedef struct kv_sock {
  int fd;               /* -1 once closed */
  int ifindex;          /* interface the socket is bound to; 0 for KV_NETLINK */
  kv_kind kind;
  int poll_live;        /* uv_poll_t initialised and its close callback not run yet */
  int poll_unref;       /* pollRef(handle, false): the poll does not keep the loop alive */
  int finalized;        /* the JS external is gone; free when poll_live is 0 */
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;    /* JS function called on readability, NULL if not polling */
  napi_async_context async_ctx;
  /* KV_RAW4 only: what raw4Send() writes in every IPv4 header. */
  struct in_addr src4;
  uint8_t ttl;
  uint8_t tos;
  uint8_t protocol;
  /* KV_NETLINK only: the port the kernel gave us; its replies to us carry it. */
  uint32_t nl_port;
} kv_sock;

/* ---------- small N-API helpers ---------- */

#define KV_CALL(env, call)                                   \
  do {                                                       \
    if ((call) != napi_ok) {                                 \
      napi_throw_error((env), "KV_NAPI", "N-API call failed: " #call); \
      return NULL;                                           \
    }                                                        \
  } while (0)

static napi_value kv_errno_name(napi_env env, int err) {
  napi_value out;
  /* libuv's UV_E* codes are the negated errno values on Linux. */
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value kv_undefined(napi_env env) {
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

static int kv_get_int(napi_env env, napi_value v, int *out) {
  int32_t x;
  if (napi_get_value_int32(env, v, &x) != napi_ok) return 0;
  *out = x;
  return 1;
}

/* Reads a Uint8Array/Buffer argument; returns 0 if v is not one. */
static int kv_get_bytes(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t offset;
  napi_value ab;
  void *ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = ptr;
  return 1;
}

static int kv_get_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return 0;
  napi_valuetype t;
  napi_typeof(env, *out, &t);
  return t != napi_undefined && t != napi_null;
}

/* An int property of an options object; 0 if it is missing or not a number. */
static int kv_int_prop(napi_env env, napi_value obj, const char *name, int *out) {
  napi_value v;
  return kv_get_prop(env, obj, name, &v) && kv_get_int(env, v, out);
}

/* A Uint8Array property of exactly `len` bytes: 1 if so, 0 if absent, -1 if anything else. */
static int kv_bytes_prop(napi_env env, napi_value obj, const char *name, size_t len, unsigned char **out) {
  napi_value v;
  size_t n;
  if (!kv_get_prop(env, obj, name, &v)) return 0;
  return kv_get_bytes(env, v, out, &n) && n == len ? 1 : -1;
}

/* ---------- socket lifetime ---------- */

static void kv_on_poll_closed(uv_handle_t *h) {
  kv_sock *s = h->data;
  s->poll_live = 0;
  if (s->finalized) free(s);
}

/* Stops polling and closes the fd. Safe to call twice, and from the poll callback. */
static void kv_close_internal(kv_sock *s) {
  if (s->callback != NULL) {
    napi_delete_reference(s->env, s->callback);
    s->callback = NULL;
    napi_async_destroy(s->env, s->async_ctx);
    s->async_ctx = NULL;
  }
  if (s->poll_live && !uv_is_closing((uv_handle_t *)&s->poll)) {
    /* uv_close removes the fd from epoll synchronously; the fd must still be
     * open then, or a reused fd number could be removed instead. */
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, kv_on_poll_closed);
  }
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
}

static void kv_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  kv_sock *s = data;
  kv_close_internal(s);
  s->finalized = 1;
  if (!s->poll_live) free(s);
}

static napi_value kv_wrap(napi_env env, kv_sock *s) {
  napi_value ext;
  if (napi_create_external(env, s, kv_finalize, NULL, &ext) != napi_ok) {
    kv_close_internal(s);
    free(s);
    napi_throw_error(env, "KV_NAPI", "napi_create_external failed");
    return NULL;
  }
  return ext;
}

static kv_sock *kv_unwrap(napi_env env, napi_value v) {
  napi_valuetype t;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

/* The handle if it is one of `kind`, else NULL (a misuse: the caller throws). */
static kv_sock *kv_unwrap_kind(napi_env env, napi_value v, kv_kind kind) {
  kv_sock *s = kv_unwrap(env, v);
  return s != NULL && s->kind == kind ? s : NULL;
}

/*
 * The arguments every send and receive call starts with, (handle of `kind`, Uint8Array):
 * reads `n` arguments into argv and returns the socket, with the bytes of argv[1] in
 * data/len; NULL on misuse (the caller throws).
 */
static kv_sock *kv_socket_and_bytes(napi_env env, napi_callback_info info, kv_kind kind, size_t n,
                                    napi_value *argv, unsigned char **data, size_t *len) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) return NULL;
  kv_sock *s = kv_unwrap_kind(env, argv[0], kind);
  return s != NULL && kv_get_bytes(env, argv[1], data, len) ? s : NULL;
}

/* kv_socket_and_bytes for (handle, Uint8Array) calls; on misuse throws `usage` and returns NULL. */
static kv_sock *kv_io_args(napi_env env, napi_callback_info info, kv_kind kind, unsigned char **data, size_t *len,
                           const char *usage) {
  napi_value argv[2];
  kv_sock *s = kv_socket_and_bytes(env, info, kind, 2, argv, data, len);
  if (s == NULL) napi_throw_type_error(env, "ERR_INVALID_ARG", usage);
  return s;
}

/*
 * Takes a socket whose set-up ended with `*err` (0 if it all worked) under a new kv_sock.
 * On failure the fd is closed, *err says why (ENOMEM if the allocation failed) and the
 * result is NULL.
 */
static kv_sock *kv_adopt(napi_env env, int fd, int *err, int ifindex, kv_kind kind) {
  kv_sock *s = *err == 0 ? calloc(1, sizeof(*s)) : NULL;
  if (s == NULL) {
    if (*err == 0) *err = ENOMEM;
    close(fd);
    return NULL;
  }
  s->fd = fd;
  s->ifindex = ifindex;
  s->kind = kind;
  s->env = env;
  return s;
}

static napi_value kv_int_result(napi_env env, ssize_t n) {
  napi_value out;
  KV_CALL(env, napi_create_int32(env, (int32_t)n, &out));
  return out;
}

/* What a send or receive returns: the byte count, or the errno name if it failed (n < 0). */
static napi_value kv_io_result(napi_env env, ssize_t n) {
  return n < 0 ? kv_errno_name(env, errno) : kv_int_result(env, n);
}

/* ---------- AF_PACKET ---------- */

/* packetOpen(ifindex) -> handle | errno name. Send-only: protocol 0 receives nothing. */
static napi_value kv_packet_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int ifindex;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !kv_get_int(env, argv[0], &ifindex) || ifindex <= 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "packetOpen(ifindex > 0)");
    return NULL;
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return kv_errno_name(env, errno);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  sll.sll_protocol = 0;
  int err = bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ? errno : 0;
  kv_sock *s = kv_adopt(env, fd, &err, ifindex, KV_PACKET);
  return s == NULL ? kv_errno_name(env, err) : kv_wrap(env, s);
}

/* packetSend(handle, frame) -> bytes sent | errno name. frame is a whole Ethernet frame. */
static napi_value kv_packet_send(napi_env env, napi_callback_info info) {
  unsigned char *frame;
  size_t len;
  kv_sock *s = kv_io_args(env, info, KV_PACKET, &frame, &len, "packetSend(handle, Uint8Array)");
  if (s == NULL) return NULL;
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  if (len < ETH_HLEN) return kv_errno_name(env, EINVAL);
  /* The address repeats what the frame says: interface, EtherType, destination. */
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = s->ifindex;
  memcpy(&sll.sll_protocol, frame + 12, 2);
  sll.sll_halen = ETH_ALEN;
  memcpy(sll.sll_addr, frame, ETH_ALEN);
  ssize_t n = sendto(s->fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
  return kv_io_result(env, n);
}

/* ---------- raw IP sockets, both families ---------- */

#define KV_SOCKBUF_BYTES (4 * 1024 * 1024)

static int kv_setopt_int(int fd, int level, int opt, int value) {
  return setsockopt(fd, level, opt, &value, sizeof(value));
}

/*
 * FORCE needs CAP_NET_ADMIN, which the daemon has; without it the plain option is capped
 * by rmem_max / wmem_max. Best effort: the defaults still work, only with less headroom.
 */
static void kv_grow_buffer(int fd, int force_opt, int opt, int bytes) {
  if (kv_setopt_int(fd, SOL_SOCKET, force_opt, bytes) < 0) kv_setopt_int(fd, SOL_SOCKET, opt, bytes);
}

/*
 * One advert per instance per interval leaves and arrives in a burst when many instances
 * share the interval: 255 of them overflow the default buffers, and a full send buffer
 * means EAGAIN.
 */
static void kv_grow_buffers(int fd) {
  kv_grow_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, KV_SOCKBUF_BYTES);
  kv_grow_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, KV_SOCKBUF_BYTES);
}

/* What raw4Open and raw6Open share: { ifindex, protocol, source?, group? }. */
typedef struct kv_raw_args {
  int ifindex;
  int protocol;
  unsigned char *source; /* NULL if absent */
  unsigned char *group;  /* NULL if absent */
} kv_raw_args;

/* Reads the shared options, addresses of `addr_len` bytes; 0 on misuse (the caller throws). */
static int kv_raw_open_args(napi_env env, napi_value obj, size_t addr_len, kv_raw_args *a) {
  memset(a, 0, sizeof(*a));
  return kv_int_prop(env, obj, "ifindex", &a->ifindex) && a->ifindex > 0 &&
         kv_int_prop(env, obj, "protocol", &a->protocol) && a->protocol > 0 && a->protocol <= 255 &&
         kv_bytes_prop(env, obj, "source", addr_len, &a->source) >= 0 &&
         kv_bytes_prop(env, obj, "group", addr_len, &a->group) >= 0;
}

/*
 * Reads (handle of `kind`, payload, dst of `dst_len` bytes), the arguments of raw4Send and
 * raw6Send; NULL on misuse (the caller throws).
 */
static kv_sock *kv_send_args(napi_env env, napi_callback_info info, kv_kind kind, size_t dst_len,
                             unsigned char **payload, size_t *len, unsigned char **dst) {
  napi_value argv[3];
  size_t n = 0;
  kv_sock *s = kv_socket_and_bytes(env, info, kind, 3, argv, payload, len);
  return s != NULL && kv_get_bytes(env, argv[2], dst, &n) && n == dst_len ? s : NULL;
}

/* ---------- AF_INET raw ---------- */

/*
 * raw4Open({ ifindex, protocol, ttl, tos, source, group? }) -> handle | errno name.
 * IP_HDRINCL: raw4Send() writes the header, so every packet carries exactly `source`
 * (4 bytes; the VRRPv3 checksum covers it, and with VIPs on the interface the kernel's
 * own choice could differ), `ttl` and `tos`, multicast and unicast alike. Bound to the
 * interface (SO_BINDTOIFINDEX) so only its packets arrive: that is how the caller knows
 * the arrival interface. Multicast leaves through that interface (IP_MULTICAST_IF) and
 * `group` is joined on it only. Multicast loopback is off: our own adverts must not
 * come back to us. Not bound to an address: a raw socket bound to one receives only
 * packets sent to it, and adverts go to the group.
 */
static napi_value kv_raw4_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  kv_raw_args a;
  int ttl = 0, tos = -1;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !kv_raw_open_args(env, argv[0], 4, &a) || !kv_int_prop(env, argv[0], "ttl", &ttl) ||
      !kv_int_prop(env, argv[0], "tos", &tos) || ttl < 1 || ttl > 255 || tos < 0 || tos > 255) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw4Open({ ifindex, protocol, ttl 1-255, tos 0-255, source, group? })");
    return NULL;
  }
  /* A zero source would be filled in by the kernel (raw(7)): the very choice we must not
   * leave to it. A multicast (RFC 1112 §4) or broadcast (RFC 1122 §3.2.1.3) source is never valid. */
  const unsigned char *src = a.source;
  if (src == NULL || (src[0] == 0 && src[1] == 0 && src[2] == 0 && src[3] == 0) || src[0] >= 224) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw4Open: source must be 4 bytes of a unicast address");
    return NULL;
  }

  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, a.protocol);
  if (fd < 0) return kv_errno_name(env, errno);
  int err = 0;
  struct ip_mreqn mreq;
  memset(&mreq, 0, sizeof(mreq));
  mreq.imr_ifindex = a.ifindex;
  if (kv_setopt_int(fd, SOL_SOCKET, SO_BINDTOIFINDEX, a.ifindex) < 0 ||
      kv_setopt_int(fd, IPPROTO_IP, IP_HDRINCL, 1) < 0 ||
      kv_setopt_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0) < 0 ||
      setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0) {
    err = errno;
  }
  if (err == 0) kv_grow_buffers(fd);
  if (err == 0 && a.group != NULL) {
    memcpy(&mreq.imr_multiaddr, a.group, 4);
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) err = errno;
  }
  kv_sock *s = kv_adopt(env, fd, &err, a.ifindex, KV_RAW4);
  if (s == NULL) return kv_errno_name(env, err);
  memcpy(&s->src4, src, 4);
  s->ttl = (uint8_t)ttl;
  s->tos = (uint8_t)tos;
  s->protocol = (uint8_t)a.protocol;
  return kv_wrap(env, s);
}

/*
 * raw4Send(handle, payload, dst4) -> bytes sent (header included) | errno name.
 * The 20-byte header (RFC 791 §3.1) is written here, on the stack, and leaves with the
 * payload in one sendmsg(): no copy of the payload, no DF (as keepalived's adverts).
 * With IP_HDRINCL the kernel always fills the checksum and the total length, and the
 * id when it is zero (raw(7)); we leave the id to it, as it numbers its own packets.
 * "EAGAIN" means the send buffer is full: the packet is not sent.
 */
static napi_value kv_raw4_send(napi_env env, napi_callback_info info) {
  unsigned char *payload, *dst;
  size_t len;
  kv_sock *s = kv_send_args(env, info, KV_RAW4, 4, &payload, &len, &dst);
  if (s == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw4Send(raw4 handle, Uint8Array, 4-byte dst)");
    return NULL;
  }
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  struct iphdr ip;
  if (len > IP_MAXPACKET - sizeof(ip)) return kv_errno_name(env, EMSGSIZE);
  memset(&ip, 0, sizeof(ip));
  ip.version = 4;
  ip.ihl = sizeof(ip) / 4;
  ip.tos = s->tos;
  ip.tot_len = htons((uint16_t)(sizeof(ip) + len));
  ip.id = 0;       /* the kernel numbers it */
  ip.frag_off = 0; /* no DF */
  ip.ttl = s->ttl;
  ip.protocol = s->protocol;
  ip.check = 0;    /* the kernel always computes it */
  ip.saddr = s->src4.s_addr;
  memcpy(&ip.daddr, dst, 4);

  /* The kernel routes by msg_name; the header's destination is what goes on the wire. */
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  memcpy(&sin.sin_addr, dst, 4);
  struct iovec iov[2] = { { .iov_base = &ip, .iov_len = sizeof(ip) }, { .iov_base = payload, .iov_len = len } };
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_name = &sin;
  msg.msg_namelen = sizeof(sin);
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t n = sendmsg(s->fd, &msg, 0);
  return kv_io_result(env, n);
}

/*
 * recv4Into(handle, buffer) -> packet length | errno name. Reads one whole IPv4 packet,
 * header first, into `buffer` (the caller's, reused: nothing is allocated). The length
 * is the packet's own (MSG_TRUNC), so one greater than buffer.length means it was cut.
 * "EAGAIN" means the socket is drained.
 */
static napi_value kv_raw4_recv_into(napi_env env, napi_callback_info info) {
  unsigned char *buf;
  size_t len;
  kv_sock *s = kv_io_args(env, info, KV_RAW4, &buf, &len, "recv4Into(raw4 handle, Uint8Array)");
  if (s == NULL) return NULL;
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  ssize_t n = recv(s->fd, buf, len, MSG_TRUNC);
  return kv_io_result(env, n);
}

/* ---------- AF_INET6 raw ---------- */

/*
 * raw6Open({ ifindex, protocol, hopLimit, source?, group? }) -> handle | errno name.
 * Bound to the interface (SO_BINDTOIFINDEX) so only its packets arrive, to `source`
 * (16 bytes, scope = ifindex) so adverts leave from the link-local address, and
 * joined to `group` on that interface only. Multicast loopback is off: our own
 * adverts must not come back to us.
 */
static napi_value kv_raw6_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  kv_raw_args a;
  int hop_limit = 0;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !kv_raw_open_args(env, argv[0], 16, &a) || !kv_int_prop(env, argv[0], "hopLimit", &hop_limit) ||
      hop_limit < 1 || hop_limit > 255) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw6Open({ ifindex, protocol, hopLimit, source?, group? }), addresses of 16 bytes");
    return NULL;
  }

  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, a.protocol);
  if (fd < 0) return kv_errno_name(env, errno);
  int err = 0;
  if (kv_setopt_int(fd, SOL_SOCKET, SO_BINDTOIFINDEX, a.ifindex) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hop_limit) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hop_limit) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, a.ifindex) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0) < 0) {
    err = errno;
  }
  if (err == 0) kv_grow_buffers(fd);
  if (err == 0 && a.group != NULL) {
    struct ipv6_mreq mreq;
    memset(&mreq, 0, sizeof(mreq));
    memcpy(&mreq.ipv6mr_multiaddr, a.group, 16);
    mreq.ipv6mr_interface = (unsigned)a.ifindex;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) err = errno;
  }
  if (err == 0 && a.source != NULL) {
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_addr, a.source, 16);
    sin6.sin6_scope_id = (uint32_t)a.ifindex;
    if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) err = errno;
  }
  kv_sock *s = kv_adopt(env, fd, &err, a.ifindex, KV_RAW6);
  return s == NULL ? kv_errno_name(env, err) : kv_wrap(env, s);
}

/* raw6Send(handle, payload, dst16) -> bytes sent | errno name. */
static napi_value kv_raw6_send(napi_env env, napi_callback_info info) {
  unsigned char *payload, *dst;
  size_t len;
  kv_sock *s = kv_send_args(env, info, KV_RAW6, 16, &payload, &len, &dst);
  if (s == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw6Send(raw6 handle, Uint8Array, 16-byte dst)");
    return NULL;
  }
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  struct sockaddr_in6 sin6;
  memset(&sin6, 0, sizeof(sin6));
  sin6.sin6_family = AF_INET6;
  memcpy(&sin6.sin6_addr, dst, 16);
  /* Needed for link-local and multicast destinations, ignored for global ones. */
  sin6.sin6_scope_id = (uint32_t)s->ifindex;
  ssize_t n = sendto(s->fd, payload, len, 0, (struct sockaddr *)&sin6, sizeof(sin6));
  return kv_io_result(env, n);
}

/*
 * recv6Into's `meta`: what the kernel says about the datagram besides its payload.
 * Mirrored by RECV6_META and RECV6_FLAG in src/native/addon.ts: change both together.
 */
#define KV_META6_SRC 0          /* 16 bytes: the source address */
#define KV_META6_DST 16         /* 16 bytes: the destination (IPV6_PKTINFO), zeroes if absent */
#define KV_META6_IFINDEX 32     /* 4 bytes, little-endian: arrival interface (IPV6_PKTINFO), 0 if absent */
#define KV_META6_HOPLIMIT 36    /* 1 byte (IPV6_HOPLIMIT), 0 if absent */
#define KV_META6_FLAGS 37       /* 1 byte of the KV_META6_HAS_* and KV_META6_TRUNCATED bits */
#define KV_META6_LENGTH 40
#define KV_META6_HAS_HOPLIMIT 0x01
#define KV_META6_HAS_PKTINFO 0x02
#define KV_META6_TRUNCATED 0x04 /* MSG_TRUNC or MSG_CTRUNC: the payload or the ancillary data was cut */

/*
 * recv6Into(handle, buffer, meta) -> payload length | errno name. Reads one datagram's
 * payload into `buffer` and its addresses, hop limit and arrival interface into `meta`
 * (KV_META6_LENGTH bytes or more), both the caller's and reused: nothing is allocated.
 * The length is the payload's own (MSG_TRUNC), so one greater than buffer.length means
 * it was cut. "EAGAIN" means the socket is drained. The kernel sends the hop limit and
 * packet info once the options are set, but the caller must check the HAS_ flags.
 */
static napi_value kv_raw6_recv_into(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  unsigned char *buf, *meta;
  size_t len, meta_len;
  kv_sock *s = kv_socket_and_bytes(env, info, KV_RAW6, 3, argv, &buf, &len);
  if (s == NULL || !kv_get_bytes(env, argv[2], &meta, &meta_len) || meta_len < KV_META6_LENGTH) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "recv6Into(raw6 handle, Uint8Array, Uint8Array of 40 bytes)");
    return NULL;
  }
  if (s->fd < 0) return kv_errno_name(env, EBADF);

  struct sockaddr_in6 from;
  union {
    struct cmsghdr align;
    unsigned char bytes[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = len };
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  memset(&from, 0, sizeof(from));
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof(control.bytes);

  ssize_t n = recvmsg(s->fd, &msg, MSG_TRUNC);
  if (n < 0) return kv_errno_name(env, errno);

  memset(meta, 0, KV_META6_LENGTH);
  memcpy(meta + KV_META6_SRC, &from.sin6_addr, 16);
  uint8_t flags = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ? KV_META6_TRUNCATED : 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != IPPROTO_IPV6) continue;
    if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int hop_limit;
      memcpy(&hop_limit, CMSG_DATA(c), sizeof(int));
      meta[KV_META6_HOPLIMIT] = (uint8_t)hop_limit;
      flags |= KV_META6_HAS_HOPLIMIT;
    } else if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      memcpy(meta + KV_META6_DST, &pi.ipi6_addr, 16);
      for (int i = 0; i < 4; i++) meta[KV_META6_IFINDEX + i] = (uint8_t)(pi.ipi6_ifindex >> (8 * i));
      flags |= KV_META6_HAS_PKTINFO;
    }
  }
  meta[KV_META6_FLAGS] = flags;
  return kv_int_result(env, n);
}

/* ---------- AF_NETLINK, NETLINK_ROUTE ---------- */

/*
 * What queues here: an ACK per address change (a takeover of 255 instances sends 255
 * requests before reading one reply, and the kernel answers each during its sendto()),
 * the parts of a dump (the kernel fills the next part only as we read, so a dump needs
 * little), and link events in bursts (many veths created at once). The default
 * (rmem_default, about 200 KiB) overflows on the first; an overflowed socket loses
 * replies, which surface as timeouts, and events, which recv reports once as ENOBUFS.
 */
#define KV_NETLINK_RCVBUF_BYTES (1024 * 1024)

/*
 * netlinkOpen(groups) -> handle | errno name. groups: the RTMGRP_* bits to join (0 for
 * requests only; RTMGRP_LINK for the link watcher), joined at bind so no event between
 * opening and joining is missed. The kernel picks our port (nl_pid 0 at bind).
 *  - NETLINK_CAP_ACK: an error ACK carries the request's header only, not the whole
 *    request echoed back (smaller, and we match replies by sequence number anyway).
 *  - NETLINK_GET_STRICT_CHK (rtnetlink only; Linux >= 4.20): dumps are checked strictly and,
 *    with it, an RTM_GETADDR dump honours ifa_index, so a node with hundreds of pod
 *    interfaces does not send them all to us. Best effort: older kernels dump everything
 *    and the TypeScript side filters, as it always does.
 */
static napi_value kv_netlink_open_protocol(napi_env env, napi_callback_info info, int protocol, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t groups = 0;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &groups) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", usage);
    return NULL;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return kv_errno_name(env, errno);
  kv_grow_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, KV_NETLINK_RCVBUF_BYTES);
  (void)kv_setopt_int(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
  if (protocol == NETLINK_ROUTE) (void)kv_setopt_int(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
  struct sockaddr_nl snl;
  socklen_t snl_len = sizeof(snl);
  memset(&snl, 0, sizeof(snl));
  snl.nl_family = AF_NETLINK;
  snl.nl_groups = groups;
  int err = 0;
  if (bind(fd, (struct sockaddr *)&snl, sizeof(snl)) < 0 ||
      getsockname(fd, (struct sockaddr *)&snl, &snl_len) < 0) {
    err = errno;
  }
  kv_sock *s = kv_adopt(env, fd, &err, 0, KV_NETLINK);
  if (s == NULL) return kv_errno_name(env, err);
  s->nl_port = snl.nl_pid;
  return kv_wrap(env, s);
}

static napi_value kv_netlink_open(napi_env env, napi_callback_info info) {
  return kv_netlink_open_protocol(env, info, NETLINK_ROUTE, "netlinkOpen(groups: RTMGRP_* bits, 0 for none)");
}

/*
 * netfilterOpen(groups) -> handle | errno name. A NETLINK_NETFILTER socket (nfnetlink),
 * opened and used as netlinkOpen's: the same handle kind, so netlinkSend, netlinkRecvInto
 * and netlinkPort serve both. groups: NFNLGRP_* bits (0 for requests only). ctnetlink
 * (IPCTNL_MSG_CT_*) is what keepvip speaks on it; the kernel loads nf_conntrack_netlink on
 * the first such request if it is a module.
 */
static napi_value kv_netfilter_open(napi_env env, napi_callback_info info) {
  return kv_netlink_open_protocol(env, info, NETLINK_NETFILTER, "netfilterOpen(groups: NFNLGRP_* bits, 0 for none)");
}

/* The netlink handle in argv[0], or NULL (a misuse: the caller throws). */
static kv_sock *kv_netlink_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  return kv_unwrap_kind(env, argv[0], KV_NETLINK);
}

/*
 * netlinkPort(handle) -> our port id. Replies to our requests carry it in nlmsg_pid;
 * notifications carry the port of whoever caused them (0 for the kernel itself).
 */
static napi_value kv_netlink_port(napi_env env, napi_callback_info info) {
  kv_sock *s = kv_netlink_arg(env, info);
  if (s == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "netlinkPort(netlink handle)");
    return NULL;
  }
  napi_value out;
  KV_CALL(env, napi_create_uint32(env, s->nl_port, &out));
  return out;
}

/*
 * netlinkSend(handle, message) -> bytes sent | errno name. One or more whole netlink
 * messages, to the kernel (nl_pid 0). The kernel handles an rtnetlink request inside
 * this call and queues its reply on our socket before returning.
 */
static napi_value kv_netlink_send(napi_env env, napi_callback_info info) {
  unsigned char *message;
  size_t len;
  kv_sock *s = kv_io_args(env, info, KV_NETLINK, &message, &len, "netlinkSend(netlink handle, Uint8Array)");
  if (s == NULL) return NULL;
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  if (len < NLMSG_HDRLEN) return kv_errno_name(env, EINVAL);
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;
  ssize_t n = sendto(s->fd, message, len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
  return kv_io_result(env, n);
}

/*
 * netlinkRecvInto(handle, buffer) -> datagram length | errno name. Reads one datagram
 * (one or more netlink messages: a dump packs many) into `buffer`, the caller's and
 * reused: nothing is allocated. The length is the datagram's own (MSG_TRUNC), so one
 * greater than buffer.length means it was cut: the rest is lost, the caller must report
 * it. A dump's datagrams are at most 32 KiB (the kernel caps its dump allocations
 * there), and single replies and events without VF lists are a few KiB.
 * Only the kernel's datagrams are returned: another process may send to our port, and
 * what it sends could otherwise pass for a reply or a link event. "EAGAIN" means the
 * socket is drained; "ENOBUFS" that the receive buffer overflowed and messages were lost.
 */
static napi_value kv_netlink_recv_into(napi_env env, napi_callback_info info) {
  unsigned char *buf;
  size_t len;
  kv_sock *s = kv_io_args(env, info, KV_NETLINK, &buf, &len, "netlinkRecvInto(netlink handle, Uint8Array)");
  if (s == NULL) return NULL;
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  for (;;) {
    struct sockaddr_nl from;
    socklen_t from_len = sizeof(from);
    memset(&from, 0, sizeof(from));
    ssize_t n = recvfrom(s->fd, buf, len, MSG_TRUNC, (struct sockaddr *)&from, &from_len);
    if (n < 0 || from.nl_pid == 0) return kv_io_result(env, n);
  }
}

/* ---------- readiness ---------- */

static void kv_on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  kv_sock *s = h->data;
  if (s->callback == NULL) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, s->callback, &cb) == napi_ok && cb != NULL) {
    /* MakeCallback needs an object receiver (undefined throws a TypeError). */
    napi_get_global(env, &recv);
    if (status < 0) {
      napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &arg);
    } else {
      napi_get_null(env, &arg);
    }
    /* make_callback runs the microtask queue afterwards, as Node's own I/O does.
     * The callback may close this socket: s must not be used after this call. */
    if (napi_make_callback(env, s->async_ctx, recv, cb, 1, &arg, &result) == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* pollStart(handle, onReadable(errName | null)) -> undefined | errno name. */
static napi_value kv_poll_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_valuetype t = napi_undefined;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_sock *s = argc >= 2 ? kv_unwrap(env, argv[0]) : NULL;
  if (s != NULL) napi_typeof(env, argv[1], &t);
  if (s == NULL || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "pollStart(handle, function)");
    return NULL;
  }
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  if (s->callback != NULL) return kv_errno_name(env, EALREADY);
  uv_loop_t *loop;
  KV_CALL(env, napi_get_uv_event_loop(env, &loop));
  if (!s->poll_live) {
    int rc = uv_poll_init(loop, &s->poll, s->fd);
    if (rc < 0) return kv_errno_name(env, -rc);
    s->poll.data = s;
    s->poll_live = 1;
    if (s->poll_unref) uv_unref((uv_handle_t *)&s->poll);
  }
  KV_CALL(env, napi_create_string_utf8(env, "keepvip:socket", NAPI_AUTO_LENGTH, &name));
  KV_CALL(env, napi_async_init(env, NULL, name, &s->async_ctx));
  KV_CALL(env, napi_create_reference(env, argv[1], 1, &s->callback));
  int rc = uv_poll_start(&s->poll, UV_READABLE, kv_on_poll);
  if (rc < 0) {
    napi_delete_reference(env, s->callback);
    s->callback = NULL;
    napi_async_destroy(env, s->async_ctx);
    s->async_ctx = NULL;
    return kv_errno_name(env, -rc);
  }
  return kv_undefined(env);
}

/*
 * pollRef(handle, ref) -> undefined. Whether polling keeps Node's loop alive (it does
 * unless told otherwise), as Node's own handles' ref() / unref(): a socket that only
 * carries requests must not hold a process that has nothing else to do, while a
 * watcher's must. May come before pollStart; it applies from then on.
 */
static napi_value kv_poll_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool ref = true;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_sock *s = argc >= 2 ? kv_unwrap(env, argv[0]) : NULL;
  if (s == NULL || napi_get_value_bool(env, argv[1], &ref) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "pollRef(handle, boolean)");
    return NULL;
  }
  s->poll_unref = !ref;
  if (s->poll_live && !uv_is_closing((uv_handle_t *)&s->poll)) {
    if (ref) uv_ref((uv_handle_t *)&s->poll);
    else uv_unref((uv_handle_t *)&s->poll);
  }
  return kv_undefined(env);
}

/* The one argument of f(handle), any kind; NULL with a TypeError thrown if it is not one. */
static kv_sock *kv_handle_arg(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_sock *s = argc >= 1 ? kv_unwrap(env, argv[0]) : NULL;
  if (s == NULL) napi_throw_type_error(env, "ERR_INVALID_ARG", usage);
  return s;
}

/* close(handle) -> undefined. Idempotent. */
static napi_value kv_close(napi_env env, napi_callback_info info) {
  kv_sock *s = kv_handle_arg(env, info, "close(handle)");
  if (s == NULL) return NULL;
  kv_close_internal(s);
  return kv_undefined(env);
}

/*
 * socketDrops(handle) -> packets the kernel dropped for this socket since it opened, or an
 * errno name. The kernel's sk_drops, as /proc/net/raw's "drops" column shows it: for a raw
 * socket, packets that arrived while its receive buffer was full. Read on demand
 * (SO_MEMINFO, Linux 4.6), so the receive path pays nothing for it.
 */
static napi_value kv_socket_drops(napi_env env, napi_callback_info info) {
  kv_sock *s = kv_handle_arg(env, info, "socketDrops(handle)");
  if (s == NULL) return NULL;
  if (s->fd < 0) return kv_errno_name(env, EBADF);
  uint32_t meminfo[SK_MEMINFO_VARS];
  socklen_t len = sizeof(meminfo);
  memset(meminfo, 0, sizeof(meminfo));
  if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) < 0) return kv_errno_name(env, errno);
  if (len < sizeof(meminfo)) return kv_errno_name(env, ENOPROTOOPT);
  napi_value out;
  KV_CALL(env, napi_create_uint32(env, meminfo[SK_MEMINFO_DROPS], &out));
  return out;
}

/* ---------- memory ---------- */

/*
 * releaseFreeMemory() -> true if glibc gave memory back to the kernel, false if it had
 * nothing to give, undefined where malloc_trim does not exist (not glibc). glibc keeps memory
 * freed after a burst (start-up, a mass takeover, V8's compiler zones) in its arenas for
 * reuse; a daemon that then runs flat for months wants it back. Cheap when there is nothing
 * to give back.
 */
static napi_value kv_release_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
#ifdef __GLIBC__
  napi_value out;
  KV_CALL(env, napi_get_boolean(env, malloc_trim(0) == 1, &out));
  return out;
#else
  return kv_undefined(env);
#endif
}

/*
 * tryLockExclusive(fd): flock(fd, LOCK_EX | LOCK_NB). undefined once held, "EAGAIN" while
 * another open file description holds it, else the errno name. Never blocks.
 */
static napi_value kv_try_lock_exclusive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !kv_get_int(env, argv[0], &fd) || fd < 0) {
    napi_throw_type_error(env, NULL, "tryLockExclusive(fd): fd must be a file descriptor");
    return NULL;
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc < 0 && errno == EINTR);
  return rc < 0 ? kv_errno_name(env, errno) : kv_undefined(env);
}

static napi_value kv_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "packetOpen", NULL, kv_packet_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "packetSend", NULL, kv_packet_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "raw4Open", NULL, kv_raw4_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "raw4Send", NULL, kv_raw4_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recv4Into", NULL, kv_raw4_recv_into, NULL, NULL, NULL, napi_enumerable, NULL },
    { "raw6Open", NULL, kv_raw6_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "raw6Send", NULL, kv_raw6_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recv6Into", NULL, kv_raw6_recv_into, NULL, NULL, NULL, napi_enumerable, NULL },
    { "netlinkOpen", NULL, kv_netlink_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "netfilterOpen", NULL, kv_netfilter_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "netlinkPort", NULL, kv_netlink_port, NULL, NULL, NULL, napi_enumerable, NULL },
    { "netlinkSend", NULL, kv_netlink_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "netlinkRecvInto", NULL, kv_netlink_recv_into, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pollStart", NULL, kv_poll_start, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pollRef", NULL, kv_poll_ref, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, kv_close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "socketDrops", NULL, kv_socket_drops, NULL, NULL, NULL, napi_enumerable, NULL },
    { "releaseFreeMemory", NULL, kv_release_free_memory, NULL, NULL, NULL, napi_enumerable, NULL },
    { "tryLockExclusive", NULL, kv_try_lock_exclusive, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  KV_CALL(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE_INIT() {
  return kv_init(env, exports);
}
