// Server settings shared by the differential tests.

/** Small limits, so that the workload crosses every compact-encoding conversion. */
export const ENCODING_LIMITS = [
  "--hash-max-listpack-entries", "16",
  "--zset-max-listpack-entries", "16",
  "--set-max-intset-entries", "32",
  "--list-max-listpack-size", "8",
  "--stream-node-max-entries", "10",
];
