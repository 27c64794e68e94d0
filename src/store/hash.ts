// A Redis hash: field -> value, latin1 strings. `encoding` is what OBJECT ENCODING reports and
// follows Redis 7.0's rules (listpack while small, hashtable for good once it grows past
// hash-max-listpack-entries / -value); the hash commands maintain it.

export type HashEncoding = "listpack" | "hashtable";

export class HashValue extends Map<string, string> {
  encoding: HashEncoding = "listpack";
}
