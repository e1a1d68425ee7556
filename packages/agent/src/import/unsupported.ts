/**
 * Why a keepalived directive has no keepvip counterpart, in words an operator can act on.
 * Anything not listed gets the plain default: it is still reported, never dropped silently.
 */

const VMAC = '(virtual MAC) is not supported';
const EMAIL = '(e-mail alerts) is not supported; use a notify script';
const LVS = '(LVS) is not carried over: keepvip does VRRP only';
const STATIC = 'is not carried over: keepvip manages virtual addresses only';
const SOURCE = 'is not supported: adverts leave from the interface primary address';
const GARP_OTHER = 'is not supported: keepvip announces on becoming Master and on refresh only';

const REASONS: Readonly<Record<string, string>> = {
  // vrrp_instance
  use_vmac: VMAC,
  use_vmac_addr: VMAC,
  vmac_xmit_base: VMAC,
  vmac_garp_intvl: VMAC,
  use_ipvlan: '(ipvlan interface) is not supported',
  vrf: '(VRF) is not supported',
  dont_track_primary: 'is not supported: keepvip always tracks the instance interface',
  native_ipv6: 'is not needed: the VIPs decide the address family',
  mcast_src_ip: SOURCE,
  unicast_src_ip: SOURCE,
  mcast_dst_ip: 'is not supported: keepvip sends to the standard groups 224.0.0.18 / ff02::12',
  track_src_ip: 'is not supported: there is no configured source address to track',
  check_unicast_src: 'is not supported',
  unicast_fault_no_peer: 'is not supported',
  unicast_ttl: 'is not supported: unicast adverts keep TTL 255 (RFC 5798 §5.1.1.3)',
  old_unicast_checksum: 'is not supported: keepvip computes the RFC 5798 checksum',
  v3_checksum_as_v2: 'is not supported: keepvip computes the RFC 5798 checksum',
  virtual_ipaddress_excluded: '(addresses left out of adverts) is not supported; move them to virtual_ipaddress or manage them outside keepvip',
  no_virtual_ipaddress: 'is not supported: a keepvip instance needs at least one VIP',
  promote_secondaries: 'is not supported',
  virtual_routes: 'is not supported: keepvip moves addresses, not routes',
  virtual_rules: 'is not supported: keepvip moves addresses, not routing rules',
  track_process: '(process tracking) is not supported; a track script such as `pidof NAME` does the same',
  track_bfd: '(BFD tracking) is not supported',
  smtp_alert: EMAIL,
  notify_deleted: 'is not supported',
  notify_master_rx_lower_pri: 'is not supported',
  notify_priority_changes: '(notify FIFO) is not supported',
  skip_check_adv_addr: 'is not supported: keepvip checks every advert',
  strict_mode: 'is not carried over: keepvip has no strict mode (accept mode was derived from it)',
  debug: 'is not supported; use global.log.level',
  kernel_rx_buf_size: 'is not supported',
  linkbeat_use_polling: 'is not supported: keepvip watches links over netlink',
  lvs_sync_daemon_interface: '(LVS sync daemon) is not supported',
  garp_master_refresh_repeat: 'is not supported: a refresh sends one announcement per address',
  garp_lower_prio_delay: GARP_OTHER,
  garp_lower_prio_repeat: GARP_OTHER,
  garp_extra_if: GARP_OTHER,
  lower_prio_no_advert: 'is not supported',
  higher_prio_send_advert: 'is not supported',
  timer_expired_backup: 'is not supported',
  thread_timer_expired: 'is not supported',
  owner_ignore_adverts: 'is not supported',
  auth_hmac: '(HMAC authentication) is not supported',
  // vrrp_sync_group
  global_tracking: 'is not supported: sync group members keep their own tracking',
  sync_group_tracking_weight: 'is not supported',
  // global_defs
  router_id: 'is not used by keepvip',
  notification_email: EMAIL,
  notification_email_from: EMAIL,
  smtp_server: EMAIL,
  smtp_helo_name: EMAIL,
  smtp_connect_timeout: EMAIL,
  smtp_alert_vrrp: EMAIL,
  smtp_alert_checker: EMAIL,
  script_user: 'is not supported: keepvip runs scripts as its own user',
  enable_script_security: 'is not supported: keepvip runs scripts as its own user',
  vrrp_mcast_group4: 'is not supported: keepvip sends to 224.0.0.18',
  vrrp_mcast_group6: 'is not supported: keepvip sends to ff02::12',
  vrrp_iptables: 'is not supported: keepvip installs no firewall rules',
  vrrp_nftables: 'is not supported: keepvip installs no firewall rules',
  vrrp_skip_check_adv_addr: 'is not supported: keepvip checks every advert',
  vrrp_check_unicast_src: 'is not supported',
  vrrp_strict: 'is not carried over: keepvip has no strict mode (accept mode was derived from it)',
  vrrp_garp_master_refresh_repeat: 'is not supported: a refresh sends one announcement per address',
  vrrp_garp_lower_prio_delay: GARP_OTHER,
  vrrp_garp_lower_prio_repeat: GARP_OTHER,
  vrrp_garp_extra_if: GARP_OTHER,
  vrrp_lower_prio_no_advert: 'is not supported',
  vrrp_higher_prio_send_advert: 'is not supported',
  // top-level blocks that are not VRRP
  virtual_server: LVS,
  virtual_server_group: LVS,
  static_ipaddress: STATIC,
  static_routes: STATIC,
  static_rules: STATIC,
  vrrp_track_process: '(process tracking) is not supported; a track script such as `pidof NAME` does the same',
  bfd_instance: '(BFD) is not supported',
  linkbeat_interfaces: 'is not supported: keepvip watches links over netlink',
  track_group: 'is not supported',
  net_namespace: 'is not supported: run keepvip inside the namespace instead',
};

export function unsupportedReason(keyword: string): string {
  if (keyword.startsWith('$')) return '(parameter substitution) is not supported; expand the definitions by hand';
  if (keyword.startsWith('@')) return '(conditional configuration) is not supported; the line was skipped';
  if (keyword.startsWith('~')) return '(sequence/list block) is not supported; expand it by hand';
  return REASONS[keyword] ?? 'is not supported by keepvip';
}
