// COMMAND DOCS (commandDocsCommand): Redis's documentation of each command we serve, dumped
// from redis-server 7.0.15 (redis-command-docs.json) and, for the commands taken from a newer
// Redis (redis-command-table-newer.json), from 7.4.1 (redis-command-docs-newer.json), both by
// test/tools/dump-command-docs.ts. redis-cli reads it at start for its hints.
//
// The files are embedded in the executable as files, not as modules: nothing is read or
// parsed until COMMAND DOCS is first called, so start-up time and memory do not pay for them.

import { readFileSync } from "node:fs";
import type { ReplyWriter } from "../../protocol/reply-writer.ts";
import type { CommandSpec } from "../../core/command-spec.ts";
import docsFile from "../redis-command-docs.json" with { type: "file" };
import newerDocsFile from "../redis-command-docs-newer.json" with { type: "file" };
import ownDocsFile from "../replicant-command-docs.json" with { type: "file" };

/** One argument as COMMAND DOCS describes it (the keys Redis 7.0 sends, in its order). */
interface ArgumentDoc {
  name: string;
  type: string;
  key_spec_index?: number;
  token?: string;
  summary?: string;
  since?: string;
  deprecated_since?: string;
  flags?: string[];
  arguments?: ArgumentDoc[];
}

interface CommandDoc {
  summary?: string;
  since?: string;
  group: string;
  complexity?: string;
  doc_flags?: string[];
  deprecated_since?: string;
  replaced_by?: string;
  history?: Array<[string, string]>;
  arguments?: ArgumentDoc[];
  subcommands?: Record<string, CommandDoc>;
}

type DocsFile = { commands: Record<string, CommandDoc> };

let loaded: Map<string, CommandDoc> | null = null;

/** The docs by top-level command name, read on first use (the newer file's entries win). */
function docs(): Map<string, CommandDoc> {
  if (loaded !== null) return loaded;
  const read = (path: unknown) => (JSON.parse(readFileSync(path as string, "latin1")) as DocsFile).commands;
  loaded = new Map(Object.entries({ ...read(docsFile), ...read(newerDocsFile), ...read(ownDocsFile) }));
  return loaded;
}

/** The doc of a command or subcommand ("parent|sub"), as Redis's fullname names it. */
function docOf(spec: CommandSpec): CommandDoc | undefined {
  const bar = spec.name.indexOf("|");
  if (bar < 0) return docs().get(spec.name);
  return docs().get(spec.name.slice(0, bar))?.subcommands?.[spec.name];
}

function replyFlags(r: ReplyWriter, flags: string[]): void {
  r.set(flags.length);
  for (const f of flags) r.simple(f);
}

function replyArguments(r: ReplyWriter, args: ArgumentDoc[]): void {
  r.array(args.length);
  for (const a of args) {
    let n = 2;
    if (a.key_spec_index !== undefined) n++;
    if (a.token !== undefined) n++;
    if (a.summary !== undefined) n++;
    if (a.since !== undefined) n++;
    if (a.deprecated_since !== undefined) n++;
    if (a.flags !== undefined) n++;
    if (a.arguments !== undefined) n++;
    r.map(n);
    r.bulk("name");
    r.bulk(a.name);
    r.bulk("type");
    r.bulk(a.type);
    if (a.key_spec_index !== undefined) {
      r.bulk("key_spec_index");
      r.int(a.key_spec_index);
    }
    for (const k of ["token", "summary", "since", "deprecated_since"] as const) {
      const v = a[k];
      if (v === undefined) continue;
      r.bulk(k);
      r.bulk(v);
    }
    if (a.flags !== undefined) {
      r.bulk("flags");
      replyFlags(r, a.flags);
    }
    if (a.arguments !== undefined) {
      r.bulk("arguments");
      replyArguments(r, a.arguments);
    }
  }
}

/** addReplyCommandDocs: one command's map; subcommands are the ones we serve. */
function replyDoc(r: ReplyWriter, spec: CommandSpec, doc: CommandDoc): void {
  const subs = spec.subcommands ? [...spec.subcommands.values()].filter((s) => docOf(s) !== undefined) : null;
  let n = 1;
  for (const k of ["summary", "since", "complexity", "doc_flags", "deprecated_since", "replaced_by", "history", "arguments"] as const) if (doc[k] !== undefined) n++;
  if (subs) n++;
  r.map(n);
  for (const k of ["summary", "since", "group", "complexity"] as const) {
    const v = doc[k];
    if (v === undefined) continue;
    r.bulk(k);
    r.bulk(v);
  }
  if (doc.doc_flags !== undefined) {
    r.bulk("doc_flags");
    replyFlags(r, doc.doc_flags);
  }
  for (const k of ["deprecated_since", "replaced_by"] as const) {
    const v = doc[k];
    if (v === undefined) continue;
    r.bulk(k);
    r.bulk(v);
  }
  if (doc.history !== undefined) {
    r.bulk("history");
    r.set(doc.history.length);
    for (const [since, changes] of doc.history) {
      r.array(2);
      r.bulk(since);
      r.bulk(changes);
    }
  }
  if (doc.arguments !== undefined) {
    r.bulk("arguments");
    replyArguments(r, doc.arguments);
  }
  if (subs) {
    r.bulk("subcommands");
    r.map(subs.length);
    for (const s of subs) {
      r.bulk(s.name);
      replyDoc(r, s, docOf(s)!);
    }
  }
}

/**
 * COMMAND DOCS [name ...]: every command (no names), or the named ones that exist ("parent|sub"
 * names a subcommand), as a map from the command's full name to its docs.
 */
export function replyCommandDocs(r: ReplyWriter, specs: Array<CommandSpec | undefined>): void {
  const found: Array<[CommandSpec, CommandDoc]> = [];
  for (const spec of specs) {
    const doc = spec && docOf(spec);
    if (doc) found.push([spec, doc]);
  }
  r.map(found.length);
  for (const [spec, doc] of found) {
    r.bulk(spec.name);
    replyDoc(r, spec, doc);
  }
}
