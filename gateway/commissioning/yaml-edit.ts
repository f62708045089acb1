import { isCollection, isMap, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Edits of the village YAML as a document, never as data: the installer's comments, key
 * order, flow or block style and blank lines survive, and only what changed is written
 * differently. Entries of `devices:` and `buses:` are found by their `id`.
 */
export type ListKey = 'devices' | 'buses';
type Entry = Record<string, unknown>;

export function parseConfigDocument(text: string): Document {
  const doc = parseDocument(text);
  // The library prints a comment at the end of the document after a blank line; one
  // written right under the last key is moved onto the content, which prints it there.
  if (doc.comment && isCollection(doc.contents) && !/\n[ \t]*\n(?:[ \t]*#[^\n]*\n?)+$/.test(text)) {
    const own = doc.contents.comment;
    doc.contents.comment = own ? `${own}\n${doc.comment}` : doc.comment;
    doc.comment = null;
  }
  return doc;
}

/** The text to write: no line folding, so untouched lines come out as they went in. */
export function renderConfigDocument(doc: Document): string {
  return doc.toString({ lineWidth: 0 });
}

function list(doc: Document, key: ListKey): YAMLSeq | undefined {
  const node = doc.get(key, true);
  return isSeq(node) ? node : undefined;
}

function indexOf(seq: YAMLSeq | undefined, id: string): number {
  if (!seq) return -1;
  return seq.items.findIndex((item) => isMap(item) && item.get('id') === id);
}

export function hasEntry(doc: Document, key: ListKey, id: string): boolean {
  return indexOf(list(doc, key), id) >= 0;
}

/** Append an entry in the style of the one before it (a one-line `{ … }` or a block). */
export function appendEntry(doc: Document, key: ListKey, value: Entry): void {
  const seq = list(doc, key);
  if (!seq) {
    // `devices:` with nothing under it (null) or absent: a block list of one entry.
    doc.set(key, doc.createNode([value]));
    return;
  }
  const node = doc.createNode(value);
  const last = seq.items.at(-1);
  node.flow = isMap(last) ? Boolean(last.flow) : false;
  // `devices: []` is a flow list only because it was empty; entries go in as a block.
  if (seq.items.length === 0) seq.flow = false;
  seq.items.push(node);
}

/**
 * Change an entry in place: unchanged keys keep their place, comments and scalar
 * nodes; changed values are set where they stand; keys gone are deleted; new keys go
 * last. Answers false when no entry has this id.
 */
export function replaceEntry(doc: Document, key: ListKey, id: string, value: Entry): boolean {
  const seq = list(doc, key);
  const at = indexOf(seq, id);
  if (at < 0) return false;
  const map = seq!.items[at] as YAMLMap;
  for (const pair of [...map.items]) {
    const k = String((pair.key as { value?: unknown })?.value ?? pair.key);
    if (!(k in value)) map.delete(k);
  }
  for (const [k, v] of Object.entries(value)) {
    const old = map.get(k, true);
    const oldJson: unknown = old && typeof old === 'object' && 'toJSON' in old ? old.toJSON() : old;
    if (old !== undefined && JSON.stringify(oldJson) === JSON.stringify(v)) continue;
    if (v !== null && typeof v === 'object') {
      const node = doc.createNode(v);
      if (isCollection(old)) node.flow = Boolean(old.flow);
      map.set(k, node);
    } else {
      map.set(k, v);
    }
  }
  return true;
}

/**
 * Remove an entry. Comments above it stay where it stood (they may head a group of
 * entries; a stale one can be deleted by hand, a lost one cannot be recovered);
 * comments on its own lines go with it.
 */
export function removeEntry(doc: Document, key: ListKey, id: string): boolean {
  const seq = list(doc, key);
  const at = indexOf(seq, id);
  if (at < 0) return false;
  const gone = seq!.items[at] as YAMLMap;
  const above = gone.commentBefore;
  seq!.items.splice(at, 1);
  // An empty block list prints as a dangling `[]` line; `devices: []` reads better.
  if (seq!.items.length === 0) seq!.flow = true;
  if (above) {
    const next = seq!.items[at] as YAMLMap | undefined;
    if (next) next.commentBefore = next.commentBefore ? `${above}\n${next.commentBefore}` : above;
    else seq!.comment = seq!.comment ? `${above}\n${seq!.comment}` : above;
  }
  return true;
}
