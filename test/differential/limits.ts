// Server settings shared by the differential tests.

/** Small limits, so that the workload crosses every compact-encoding conversion. */
export const ENCODING_LIMITS = [
  "--hash-max-listpack-entries", "16",
  "--zset-max-listpack-entries", "16",
  "--set-max-intset-entries", "32",
  "--list-max-listpack-size", "8",
  "--stream-node-max-entries", "10",
];

/** Other small limits for the replication test (the conversions happen at other sizes there). */
export const REPLICATION_ENCODING_LIMITS = [
  "--hash-max-listpack-entries", "24",
  "--hash-max-listpack-value", "40",
  "--zset-max-listpack-entries", "12",
  "--set-max-intset-entries", "20",
  "--list-max-listpack-size", "4",
  "--stream-node-max-entries", "6",
];
