// Versions reported to clients. Replicant speaks Redis 7.0's protocol and replies like it, so
// it reports the Redis version it is compatible with (clients and Sentinel gate features on it).
export const REPLICANT_VERSION = "0.1.0";
export const REDIS_COMPAT_VERSION = "7.0.15";
