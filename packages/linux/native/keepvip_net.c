/*
 * keepvip_net: the two socket kinds Node and raw-socket cannot give us.
 *
 *  - AF_PACKET SOCK_RAW bound to one interface, send-only: gratuitous ARP and
 *    unsolicited neighbour advertisements are whole Ethernet frames.
 *  - AF_INET6 SOCK_RAW for one IP protocol (VRRP, 112), read with recvmsg() and
 *    IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO: an IPv6 raw socket hands over the
 *    payload only, and RFC 5798 §7.1 needs the hop limit, the destination and the
 *    arrival interface to accept or drop a packet.
 *
 * Every socket is non-blocking. Readiness comes from a uv_poll_t on the fd, so
 * Node's loop is never blocked; JavaScript then drains the socket with recv6()
 * until it reports EAGAIN. Failures are returned, never thrown: a function gives
 * back its result or the errno name as a string ("EPERM", "EAGAIN", ...), which
 * the TypeScript layer turns into Result values or named errors. Only misuse
 * (wrong argument types) throws a TypeError.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

/* Largest datagram an IPv6 raw socket can hand us (no jumbograms). */
#define KV_RECV_BUF 65535

typedef struct kv_sock {
  int fd;               /* -1 once closed */
  int ifindex;          /* interface the socket is bound to */
  int poll_live;        /* uv_poll_t initialised and its close callback not run yet */
  int finalized;        /* the JS external is gone; free when poll_live is 0 */
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;    /* JS function called on readability, NULL if not polling */
  napi_async_context async_ctx;
  unsigned char *buf;   /* receive buffer, AF_INET6 sockets only */
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

/* ---------- socket lifetime ---------- */

static void kv_on_poll_closed(uv_handle_t *h) {
  kv_sock *s = h->data;
  s->poll_live = 0;
  if (s->finalized) {
    free(s->buf);
    free(s);
  }
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
  if (!s->poll_live) {
    free(s->buf);
    free(s);
  }
}

static napi_value kv_wrap(napi_env env, kv_sock *s) {
  napi_value ext;
  if (napi_create_external(env, s, kv_finalize, NULL, &ext) != napi_ok) {
    kv_close_internal(s);
    free(s->buf);
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

static kv_sock *kv_new(int fd, int ifindex, napi_env env) {
  kv_sock *s = calloc(1, sizeof(*s));
  if (s == NULL) return NULL;
  s->fd = fd;
  s->ifindex = ifindex;
  s->env = env;
  return s;
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
  if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
    int err = errno;
    close(fd);
    return kv_errno_name(env, err);
  }
  kv_sock *s = kv_new(fd, ifindex, env);
  if (s == NULL) {
    close(fd);
    return kv_errno_name(env, ENOMEM);
  }
  return kv_wrap(env, s);
}

/* packetSend(handle, frame) -> bytes sent | errno name. frame is a whole Ethernet frame. */
static napi_value kv_packet_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *frame;
  size_t len;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_sock *s = argc >= 2 ? kv_unwrap(env, argv[0]) : NULL;
  if (s == NULL || !kv_get_bytes(env, argv[1], &frame, &len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "packetSend(handle, Uint8Array)");
    return NULL;
  }
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
  if (n < 0) return kv_errno_name(env, errno);
  napi_value out;
  KV_CALL(env, napi_create_int32(env, (int32_t)n, &out));
  return out;
}

/* ---------- AF_INET6 raw ---------- */

#define KV_RCVBUF_BYTES (4 * 1024 * 1024)

static int kv_setopt_int(int fd, int level, int opt, int value) {
  return setsockopt(fd, level, opt, &value, sizeof(value));
}

/*
 * raw6Open({ ifindex, protocol, hopLimit, source?, group? }) -> handle | errno name.
 * Bound to the interface (SO_BINDTOIFINDEX) so only its packets arrive, to `source`
 * (16 bytes, scope = ifindex) so adverts leave from the link-local address, and
 * joined to `group` on that interface only. Multicast loopback is off: our own
 * adverts must not come back to us.
 */
static napi_value kv_raw6_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  int ifindex = 0, protocol = 0, hop_limit = 0;
  unsigned char *source = NULL, *group = NULL;
  size_t len;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !kv_get_prop(env, argv[0], "ifindex", &v) || !kv_get_int(env, v, &ifindex) ||
      !kv_get_prop(env, argv[0], "protocol", &v) || !kv_get_int(env, v, &protocol) ||
      !kv_get_prop(env, argv[0], "hopLimit", &v) || !kv_get_int(env, v, &hop_limit) ||
      ifindex <= 0 || protocol <= 0 || protocol > 255 || hop_limit < 1 || hop_limit > 255) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw6Open({ ifindex, protocol, hopLimit })");
    return NULL;
  }
  if (kv_get_prop(env, argv[0], "source", &v) && (!kv_get_bytes(env, v, &source, &len) || len != 16)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw6Open: source must be 16 bytes");
    return NULL;
  }
  if (kv_get_prop(env, argv[0], "group", &v) && (!kv_get_bytes(env, v, &group, &len) || len != 16)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw6Open: group must be 16 bytes");
    return NULL;
  }

  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return kv_errno_name(env, errno);
  int err = 0;
  if (kv_setopt_int(fd, SOL_SOCKET, SO_BINDTOIFINDEX, ifindex) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hop_limit) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hop_limit) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex) < 0 ||
      kv_setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0) < 0) {
    err = errno;
  }
  /* One advert per instance per interval arrives in a burst when many instances share the
   * interval: 255 of them overflow the default receive buffer. FORCE needs CAP_NET_ADMIN,
   * which the daemon has; without it the plain option is capped by rmem_max. */
  if (err == 0 && kv_setopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, KV_RCVBUF_BYTES) < 0) {
    kv_setopt_int(fd, SOL_SOCKET, SO_RCVBUF, KV_RCVBUF_BYTES);
  }
  if (err == 0 && group != NULL) {
    struct ipv6_mreq mreq;
    memset(&mreq, 0, sizeof(mreq));
    memcpy(&mreq.ipv6mr_multiaddr, group, 16);
    mreq.ipv6mr_interface = (unsigned)ifindex;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) err = errno;
  }
  if (err == 0 && source != NULL) {
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_addr, source, 16);
    sin6.sin6_scope_id = (uint32_t)ifindex;
    if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) err = errno;
  }
  if (err != 0) {
    close(fd);
    return kv_errno_name(env, err);
  }
  kv_sock *s = kv_new(fd, ifindex, env);
  if (s == NULL || (s->buf = malloc(KV_RECV_BUF)) == NULL) {
    free(s);
    close(fd);
    return kv_errno_name(env, ENOMEM);
  }
  return kv_wrap(env, s);
}

/* raw6Send(handle, payload, dst16) -> bytes sent | errno name. */
static napi_value kv_raw6_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  unsigned char *payload, *dst;
  size_t len, dst_len;
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_sock *s = argc >= 3 ? kv_unwrap(env, argv[0]) : NULL;
  if (s == NULL || !kv_get_bytes(env, argv[1], &payload, &len) ||
      !kv_get_bytes(env, argv[2], &dst, &dst_len) || dst_len != 16) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "raw6Send(handle, Uint8Array, 16-byte dst)");
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
  if (n < 0) return kv_errno_name(env, errno);
  napi_value out;
  KV_CALL(env, napi_create_int32(env, (int32_t)n, &out));
  return out;
}

static napi_value kv_set_int(napi_env env, napi_value obj, const char *name, int32_t value) {
  napi_value v;
  if (napi_create_int32(env, value, &v) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, name, v) != napi_ok) return NULL;
  return obj;
}

static napi_value kv_set_bytes(napi_env env, napi_value obj, const char *name, const void *p, size_t n) {
  napi_value v;
  void *copy;
  if (napi_create_buffer_copy(env, n, p, &copy, &v) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, name, v) != napi_ok) return NULL;
  return obj;
}

/*
 * recv6(handle) -> { payload, src, dst, hopLimit, ifindex, truncated } | errno name.
 * "EAGAIN" means the socket is drained. hopLimit and ifindex are -1 / 0 and dst is
 * all zeroes if the kernel sent no such ancillary data (it always does once the
 * options are set, but the caller must not assume).
 */
static napi_value kv_raw6_recv(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_sock *s = argc >= 1 ? kv_unwrap(env, argv[0]) : NULL;
  if (s == NULL || s->buf == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "recv6(raw6 handle)");
    return NULL;
  }
  if (s->fd < 0) return kv_errno_name(env, EBADF);

  struct sockaddr_in6 from;
  union {
    struct cmsghdr align;
    unsigned char bytes[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
  } control;
  struct iovec iov = { .iov_base = s->buf, .iov_len = KV_RECV_BUF };
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  memset(&from, 0, sizeof(from));
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof(control.bytes);

  ssize_t n = recvmsg(s->fd, &msg, 0);
  if (n < 0) return kv_errno_name(env, errno);

  int hop_limit = -1, ifindex = 0;
  struct in6_addr dst;
  memset(&dst, 0, sizeof(dst));
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != IPPROTO_IPV6) continue;
    if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(&hop_limit, CMSG_DATA(c), sizeof(int));
    } else if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      dst = pi.ipi6_addr;
      ifindex = (int)pi.ipi6_ifindex;
    }
  }

  napi_value out, flag;
  KV_CALL(env, napi_create_object(env, &out));
  if (kv_set_bytes(env, out, "payload", s->buf, (size_t)n) == NULL ||
      kv_set_bytes(env, out, "src", &from.sin6_addr, 16) == NULL ||
      kv_set_bytes(env, out, "dst", &dst, 16) == NULL ||
      kv_set_int(env, out, "hopLimit", hop_limit) == NULL ||
      kv_set_int(env, out, "ifindex", ifindex) == NULL) {
    napi_throw_error(env, "KV_NAPI", "recv6: building the result failed");
    return NULL;
  }
  KV_CALL(env, napi_get_boolean(env, (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0, &flag));
  KV_CALL(env, napi_set_named_property(env, out, "truncated", flag));
  return out;
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

/* close(handle) -> undefined. Idempotent. */
static napi_value kv_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  KV_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  kv_sock *s = argc >= 1 ? kv_unwrap(env, argv[0]) : NULL;
  if (s == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "close(handle)");
    return NULL;
  }
  kv_close_internal(s);
  return kv_undefined(env);
}

static napi_value kv_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "packetOpen", NULL, kv_packet_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "packetSend", NULL, kv_packet_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "raw6Open", NULL, kv_raw6_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "raw6Send", NULL, kv_raw6_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recv6", NULL, kv_raw6_recv, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pollStart", NULL, kv_poll_start, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, kv_close, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  KV_CALL(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE_INIT() {
  return kv_init(env, exports);
}
