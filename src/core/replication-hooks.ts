// What the core and the dataset layer ask of replication. Replication sits above them (it
// drives the link to our master, serves our replicas, and applies the stream through the core's
// dispatch), so the core names only this; replication/replication.ts implements it, start
// installs it on the Server (`server.replication`), and the layers above replication reach the
// whole of it with replicationOf(server).

import type { ReplicationAux } from "../rdb/writer.ts";
import type { Database } from "../store/database.ts";
import type { Client } from "./client.ts";

export interface ReplicationHooks {
  /** Our master's host while we are a replica (REPLICAOF / replicaof), null as a master. */
  readonly masterHost: string | null;
  /** Writes made here go to our replicas: we are a master and something streams them. */
  readonly originating: boolean;
  /** The replication ID and offset (master_replid, master_repl_offset). */
  readonly replid: string;
  readonly masterReplOffset: number;
  /** The backlog's size in bytes, 0 without one (INFO memory's mem_replication_backlog). */
  backlogBytes(): number;
  /** Whether the link to our master is up (master_link_status:up). */
  isLinkUp(): boolean;
  /** Replicas that ACKed within min-replicas-max-lag (min-replicas-to-write). */
  goodReplicasCount(): number;

  /** Around each command: collect what it propagates, then propagate it (call()'s propagation). */
  beginCommand(): void;
  endCommand(c: Client, argv: string[], changed: boolean): void;
  /** Around EXEC's commands: one MULTI/EXEC unit on the stream. */
  beginTransaction(c: Client): void;
  endTransaction(c: Client): void;
  /** A key found expired on a master: its DEL / UNLINK. */
  propagateExpiry(db: Database, key: string): void;
  /** A write of our own outside any command (active expiry of a hash field). */
  propagateAlone(db: Database, argv: string[]): void;

  /** A client's connection closed (a replica of ours, perhaps). */
  onClientClosed(c: Client): void;
  /** Orderly shutdown: stop a handshake with our master in progress. */
  cancelHandshake(): void;
  /** Start-up from a dataset file with replication aux fields (Redis's loadDataFromDisk). */
  restoreFromRdbAux(aux: Map<string, string>): void;
  /** What an RDB saved now records of the replication history (rdbPopulateSaveInfo). */
  rdbAux(replOffset: number): ReplicationAux | null;
}
