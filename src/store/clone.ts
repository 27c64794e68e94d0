// Deep copies of values: COPY, and copy-on-write snapshots (a value about to be modified
// while a snapshot still needs its old state). Strings are immutable JS strings: shared.

import { HashValue } from "./hash.ts";
import { ListValue } from "./list.ts";
import { SetValue } from "./set.ts";
import { StreamValue, type ConsumerGroup } from "./stream.ts";
import { ZSetValue } from "./zset.ts";
import type { RedisValue } from "./values.ts";

export function cloneValue(v: RedisValue): RedisValue {
  if (typeof v === "string") return v;
  if (v instanceof ListValue) {
    const copy = ListValue.from(v.toArray());
    copy.encoding = v.encoding;
    return copy;
  }
  if (v instanceof HashValue) {
    const copy = new HashValue(v);
    copy.encoding = v.encoding;
    return copy;
  }
  if (v instanceof SetValue) {
    const copy = new SetValue(v);
    copy.encoding = v.encoding;
    return copy;
  }
  if (v instanceof ZSetValue) {
    const copy = new ZSetValue();
    for (const [m, s] of v.entries()) copy.add(m, s);
    copy.encoding = v.encoding;
    return copy;
  }
  if (v instanceof StreamValue) return cloneStream(v);
  // Module values are immutable blobs.
  return v;
}

function cloneStream(s: StreamValue): StreamValue {
  const copy = new StreamValue();
  for (const e of s.entries) copy.append(e.id, e.fields.slice());
  copy.lastId = { ...s.lastId };
  copy.maxDeletedId = { ...s.maxDeletedId };
  copy.entriesAdded = s.entriesAdded;
  copy.firstId = { ...s.firstId };
  for (const [name, g] of s.groups) {
    const group: ConsumerGroup = { name, lastId: { ...g.lastId }, entriesRead: g.entriesRead, pending: new Map(), consumers: new Map() };
    for (const [id, p] of g.pending) group.pending.set(id, { ...p, id: { ...p.id } });
    for (const [cname, c] of g.consumers) {
      const pending = new Map();
      for (const id of c.pending.keys()) pending.set(id, group.pending.get(id)!);
      group.consumers.set(cname, { ...c, pending });
    }
    copy.groups.set(name, group);
  }
  return copy;
}
