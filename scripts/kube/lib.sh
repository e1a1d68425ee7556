# Shared by scripts/kube/{build,up,down}: where the module, the binaries and the state live.
# Source it; it only sets variables and defines functions.
#
#   KEEPVIP_KUBE_STATE  state dir of one control plane (default scripts/kube/.run/local)
#   KEEPVIP_KUBE_BIN    directory holding etcd, kube-apiserver, kubectl and kube-proxy
#                       (default scripts/kube/.bin/<version key>, filled by scripts/kube/build)
KUBE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The version key comes from go.mod itself (no Go needed), so a warm start never runs go.
kube_mod_version() { # <module path>
  awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$KUBE_DIR/go.mod"
}
KUBE_K8S_VERSION="$(kube_mod_version k8s.io/kubernetes)"
KUBE_ETCD_VERSION="$(kube_mod_version go.etcd.io/etcd/server/v3)"
KUBE_VERSION_KEY="k8s-${KUBE_K8S_VERSION}_etcd-${KUBE_ETCD_VERSION}"
KUBE_BIN="${KEEPVIP_KUBE_BIN:-$KUBE_DIR/.bin/$KUBE_VERSION_KEY}"
KUBE_STATE="${KEEPVIP_KUBE_STATE:-$KUBE_DIR/.run/local}"
KUBE_TOOLS=(etcd kube-apiserver kubectl kube-proxy)

kube_log() { printf '[kube] %s\n' "$*" >&2; }
kube_die() { printf '[kube] ERROR: %s\n' "$*" >&2; exit 1; }

# True when every binary is present and the build that produced them completed.
kube_bins_ready() {
  [ -f "$KUBE_BIN/.complete" ] || return 1
  local t
  for t in "${KUBE_TOOLS[@]}"; do [ -x "$KUBE_BIN/$t" ] || return 1; done
}

# A process we started is alive only if its pid file names a live process that is still
# the same program (guards against a recycled PID after a reboot or a long pause).
kube_pid_alive() { # <pid file> <expected comm>
  local pid comm
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  comm="$(ps -o comm= -p "$pid" 2>/dev/null)" || return 1
  [ "$comm" = "$2" ]
}

# Stops <state>/<name>.pid if it is still that program: SIGTERM, then SIGKILL after 10 s.
kube_stop() { # <state dir> <name> <expected comm>
  local pidf="$1/$2.pid" pid i
  kube_pid_alive "$pidf" "$3" || return 0
  pid="$(cat "$pidf")"
  [ "$pid" = "$$" ] || [ "$pid" = "$PPID" ] && return 0 # the watchdog calling us
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kube_pid_alive "$pidf" "$3" || { kube_log "stopped $2 (pid $pid)"; return 0; }
    sleep 0.1
  done
  kube_log "$2 (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}
