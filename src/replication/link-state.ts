// Where the link to our master stands (Redis's repl_state), and what we keep of a master we
// followed to continue its history by partial resync.

export const enum ReplState {
  None = "none",
  Connect = "connect",
  Connecting = "connecting",
  ReceivePong = "receive_pong",
  ReceiveAuth = "receive_auth",
  ReceivePort = "receive_port",
  ReceiveIp = "receive_ip",
  ReceiveCapa = "receive_capa",
  ReceivePsync = "receive_psync",
  /** Dual channel: the master answered +DUALCHANNELSYNC; the RDB channel's handshake runs. */
  DualChannelRdb = "dual_channel_rdb",
  /** Dual channel: REPLCONF set-rdb-client-id sent on the main connection. */
  ReceiveRdbClientId = "receive_rdb_client_id",
  Transfer = "transfer",
  Connected = "connected",
}

/** The state ROLE reports for a replica: connect, connecting, sync, connected, handshake. */
export function roleState(s: ReplState): string {
  switch (s) {
    case ReplState.Connect:
      return "connect";
    case ReplState.Connecting:
      return "connecting";
    case ReplState.Transfer:
      return "sync";
    case ReplState.Connected:
      return "connected";
    case ReplState.None:
      return "none";
    default:
      return "handshake";
  }
}

/** What we know of the master we last followed, to ask for a partial resync. */
export interface CachedMaster {
  replid: string;
  offset: number;
  db: number;
}
