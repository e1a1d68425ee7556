/** Where the daemon's control socket is unless the config or a flag says otherwise. */
export const DEFAULT_STATUS_SOCKET = '/run/keepvip/keepvip.sock';
