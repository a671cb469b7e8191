/**
 * Pure: XML text → a small element tree, with saxes (a strict, non-validating parser; it never
 * fetches anything). Safe for text from a host: a DOCTYPE (the only way to declare entities) is
 * refused, so no entity is ever expanded beyond XML's five; the size and depth are bounded.
 */
import { SaxesParser } from 'saxes';
import { LockstepError } from '../contract/index.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** libvirt's largest real domains are tens of KiB; anything past this is not a domain. */
export const MAX_XML_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;

function refused(what: string, cause?: string): LockstepError {
  return new LockstepError({
    code: 'vm-xml-invalid',
    message: `The domain XML cannot be read: ${what}.`,
    ...(cause ? { cause } : {}),
    fix: 'Give the XML exactly as `virsh dumpxml NAME` prints it (no DOCTYPE, no entities).',
  });
}

export function parseXml(text: string): XmlElement {
  if (text.length > MAX_XML_BYTES) throw refused(`it is ${text.length} bytes, more than ${MAX_XML_BYTES}`);
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let failure: Error | null = null;
  parser.on('doctype', () => {
    failure ??= refused('it has a DOCTYPE (entity declarations are not accepted)');
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= MAX_DEPTH) failure ??= refused(`it nests deeper than ${MAX_DEPTH} elements`);
    const el: XmlElement = { name: tag.name, attrs: { ...tag.attributes } as Record<string, string>, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('closetag', () => {
    const el = stack.pop();
    if (el) el.text = el.text.trim();
  });
  parser.on('error', (e) => {
    failure ??= e;
  });
  try {
    parser.write(text).close();
  } catch (e) {
    failure ??= e as Error;
  }
  if (failure) throw failure instanceof LockstepError ? failure : refused('it is not well-formed XML', (failure as Error).message.slice(0, 300));
  if (!root) throw refused('it is empty');
  return root;
}

/** The first child element of that name. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Every child element of that name. */
export function childrenOf(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Follows a path of child names: path(domain, 'os', 'type'). */
export function path(el: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let cur = el;
  for (const n of names) cur = child(cur, n);
  return cur;
}

export const attr = (el: XmlElement | undefined, name: string): string | null => el?.attrs[name] ?? null;
