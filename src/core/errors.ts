// Error replies with Redis's exact texts: clients and tests compare them.

/** Thrown by a handler to reply with an error. `reply` includes the code, e.g. "ERR syntax error". */
export class CommandError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}

export function fail(reply: string): never {
  throw new CommandError(reply);
}

export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const SYNTAX = "ERR syntax error";
export const NOT_INTEGER = "ERR value is not an integer or out of range";
export const NOT_FLOAT = "ERR value is not a valid float";
export const NO_SUCH_KEY = "ERR no such key";
export const OUT_OF_RANGE = "ERR index out of range";
export const DB_OUT_OF_RANGE = "ERR DB index is out of range";
export const NOAUTH = "NOAUTH Authentication required.";
export const READONLY = "READONLY You can't write against a read only replica.";
export const MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
export const LOADING = "LOADING Redis is loading the dataset in memory";
export const EXECABORT = "EXECABORT Transaction discarded because of previous errors.";
/** Redis's shared.oomerr: a deny-oom command over maxmemory with nothing left to evict. */
export const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
export const NOREPLICAS = "NOREPLICAS Not enough good replicas to write.";
export const BUSYKEY = "BUSYKEY Target key name already exists.";
export const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

export function wrongArity(fullName: string): string {
  return `ERR wrong number of arguments for '${fullName}' command`;
}
