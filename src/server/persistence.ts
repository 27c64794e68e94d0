// The dataset file (dir/dbfilename): loading it at start-up. Saving (SAVE, BGSAVE, save points,
// SHUTDOWN) comes with the RDB writer.

import type { Server } from "./server.ts";
import { beginDatasetLoad } from "../replication/dataset-load.ts";
import { Database } from "../store/database.ts";

/** Loads the dataset file at start-up. Returns false if the file is unusable (Redis exits). */
export async function loadDatasetFile(server: Server, path: string): Promise<boolean> {
  const started = performance.now();
  const fresh = server.dbs.map((db) => new Database(db.id));
  const load = beginDatasetLoad(server, fresh);
  server.loading = true;
  try {
    const ok = await load.feedFile(path, () => true);
    if (!ok) return false;
    const result = load.finish();
    for (let i = 0; i < server.dbs.length; i++) server.dbs[i]!.swapContents(result.dbs[i]!);
    for (const [name, f] of result.functions) server.functions.set(name, f);
    server.persistence.lastLoadKeysLoaded = result.keysLoaded;
    const ver = result.aux.get("redis-ver");
    if (ver) server.log.notice(`Loading RDB produced by version ${ver}`);
    server.log.notice(`Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: 0.`);
    server.log.notice(`DB loaded from disk: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
    server.replication.restoreFromRdbAux(result.aux);
    return true;
  } catch (e) {
    server.log.warning(`Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
    return false;
  } finally {
    server.loading = false;
  }
}
