// Every command family's handlers, as the command table joins them with Redis's metadata
// (core/command-table.ts). A family's handlers live in its folder here (with the engine they
// alone use); what the core owns (MONITOR's feed, WATCH, subscriptions) they reach in core/.

import { buildCommandTable, type CommandTable } from "../core/command-table.ts";
import type { HandlerMap } from "../core/command-spec.ts";
import { handlers as connection } from "./connection/connection.ts";
import { handlers as clientTracking } from "./connection/client-tracking.ts";
import { handlers as monitor } from "./connection/monitor.ts";
import { handlers as serverAdmin } from "./server/admin.ts";
import { handlers as keys } from "./keys/keys.ts";
import { handlers as strings } from "./strings/strings.ts";
import { handlers as bitmaps } from "./bitmaps/bitmaps.ts";
import { handlers as hyperloglog } from "./hyperloglog/hyperloglog.ts";
import { handlers as lists } from "./lists/lists.ts";
import { handlers as hashes } from "./hashes/hashes.ts";
import { handlers as hashesExpiry } from "./hashes/expiry.ts";
import { handlers as sets } from "./sets/sets.ts";
import { handlers as zsets } from "./zsets/zsets.ts";
import { handlers as geo } from "./geo/geo.ts";
import { handlers as streams } from "./streams/streams.ts";
import { handlers as transactions } from "./transactions/transactions.ts";
import { handlers as scripting } from "./scripting/scripting.ts";
import { handlers as pubsub } from "./pubsub/pubsub.ts";
import { handlers as replication } from "./server/replication.ts";
import { handlers as replicaDelay } from "./server/replica-delay.ts";
import { handlers as modules } from "./server/modules.ts";
import { handlers as debug } from "./server/debug.ts";
import { handlers as memory } from "./server/memory.ts";
import { handlers as cluster } from "./server/cluster.ts";
import { handlers as lolwut } from "./server/lolwut.ts";
import { handlers as migrate } from "./keys/migrate.ts";

import { handlers as acl } from "./connection/acl.ts";

const FAMILIES: readonly HandlerMap[] = [connection, clientTracking, monitor, serverAdmin, keys, strings, bitmaps, hyperloglog, lists, hashes, hashesExpiry, sets, zsets, geo, streams, transactions, scripting, pubsub, replication, replicaDelay, modules, debug, memory, cluster, lolwut, migrate, acl];

/** A new command table with every family's handlers (rename-command not yet applied). */
export function commandTable(): CommandTable {
  return buildCommandTable(FAMILIES);
}
