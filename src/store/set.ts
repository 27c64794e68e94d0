// A Redis set of latin1 strings. `encoding` is what OBJECT ENCODING reports (intset while all
// members are integers and few, listpack (7.2+ masters), hashtable); the set commands maintain it.

export type SetEncoding = "intset" | "listpack" | "hashtable";

export class SetValue extends Set<string> {
  encoding: SetEncoding = "hashtable";
}
