// The XML element every layer passes around: a stanza, a stream feature, an IQ payload.
// It is an ltx Element (the element type of xmpp.js and @xmpp/xml), so plugin authors find
// the API they know, and elements built with @xmpp/xml's xml() can be handed to the kernel.
// The methods on the per-stanza path are our own, typed and allocation-light, and
// serialization is hand-rolled because every routed stanza is written once.
import LtxElement from 'ltx/lib/Element.js';

export type Attrs = Record<string, string | undefined>;
export type Node = Element | string;

/** Methods every Element inherits from ltx's Element as they are. */
export interface Element {
  up(): Element;
  root(): Element;
  getAttr(name: string, xmlns?: string): string | undefined;
  getChildByAttr(attr: string, value: string, xmlns?: string, recursive?: boolean): Element | undefined;
  getChildrenByAttr(attr: string, value: string, xmlns?: string, recursive?: boolean): Element[];
  cnode<T extends Node>(child: T): T;
  prepend(...nodes: Node[]): void;
  write(writer: (part: string) => void): void;
}

export class Element {
  name: string;
  attrs: Attrs;
  children: Node[];
  parent: Element | null = null;

  constructor(name: string, attrs?: Attrs | null, children?: Node[]) {
    this.name = name;
    this.attrs = attrs ?? {};
    this.children = children ?? [];
  }

  /** ltx's attribute setter: a string is the namespace, an object is merged in. */
  setAttrs(attrs: Attrs | string | null | undefined): void {
    if (typeof attrs === 'string') this.attrs.xmlns = attrs;
    else if (attrs) Object.assign(this.attrs, attrs);
  }

  /** ltx's name for the local name. */
  getName(): string {
    return this.localName;
  }

  /** Namespace of this element, inherited from ancestors as XML says. */
  getNS(): string | undefined {
    const colon = this.name.indexOf(':');
    const attr = colon === -1 ? 'xmlns' : 'xmlns:' + this.name.slice(0, colon);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    for (let el: Element | null = this; el; el = el.parent) {
      const ns = el.attrs[attr];
      if (ns !== undefined) return ns;
    }
    return undefined;
  }

  /** Local name without any prefix. */
  get localName(): string {
    const colon = this.name.indexOf(':');
    return colon === -1 ? this.name : this.name.slice(colon + 1);
  }

  is(name: string, xmlns?: string): boolean {
    return this.localName === name && (xmlns === undefined || this.getNS() === xmlns);
  }

  getChild(name: string, xmlns?: string): Element | undefined {
    for (const c of this.children) {
      if (typeof c !== 'string' && c.is(name, xmlns)) return c;
    }
    return undefined;
  }

  getChildren(name: string, xmlns?: string): Element[] {
    const out: Element[] = [];
    for (const c of this.children) {
      if (typeof c !== 'string' && c.is(name, xmlns)) out.push(c);
    }
    return out;
  }

  /** Child elements only, no text nodes. */
  getChildElements(): Element[] {
    const out: Element[] = [];
    for (const c of this.children) if (typeof c !== 'string') out.push(c);
    return out;
  }

  /** The first child element carrying the given namespace (IQ payloads, errors). */
  getChildByNS(xmlns: string): Element | undefined {
    for (const c of this.children) {
      if (typeof c !== 'string' && c.getNS() === xmlns) return c;
    }
    return undefined;
  }

  getText(): string {
    let s = '';
    for (const c of this.children) if (typeof c === 'string') s += c;
    return s;
  }

  getChildText(name: string, xmlns?: string): string | undefined {
    return this.getChild(name, xmlns)?.getText();
  }

  /** Appends a child and returns it (for building nested payloads). */
  c(name: string, attrs?: Attrs): Element {
    const child = new Element(name, attrs);
    child.parent = this;
    this.children.push(child);
    return child;
  }

  /** Appends a child element or text and returns this. */
  append(...nodes: (Node | undefined | null | false)[]): this {
    for (const n of nodes) {
      if (n === undefined || n === null || n === false) continue;
      if (typeof n !== 'string') n.parent = this;
      this.children.push(n);
    }
    return this;
  }

  /** Appends text and returns this. */
  t(text: string): this {
    this.children.push(text);
    return this;
  }

  /** Removes a child element, or (ltx's second form) every child element of a name and namespace. */
  remove(child: Element | string, xmlns?: string): this {
    if (typeof child === 'string') {
      this.children = this.children.filter((c) => typeof c === 'string' || !c.is(child, xmlns));
      return this;
    }
    const i = this.children.indexOf(child);
    if (i !== -1) this.children.splice(i, 1);
    return this;
  }

  /** Deep copy, detached from any parent; namespace attrs are not inherited, so the
   * caller must make sure the root carries its xmlns (stanzas always do on the wire). */
  clone(): Element {
    const copy = new Element(this.name, { ...this.attrs });
    for (const c of this.children) {
      if (typeof c === 'string') copy.children.push(c);
      else {
        const cc = c.clone();
        cc.parent = copy;
        copy.children.push(cc);
      }
    }
    return copy;
  }

  toString(): string {
    return serialize(this);
  }
}

// Our own constructor, with ltx's Element.prototype behind ours: instanceof ltx's Element
// holds (ltx's CommonJS build, the one @xmpp/xml uses) and ltx's other methods are
// inherited, without ltx's constructor, which copies every attribute object and made
// building an element twice as slow.
Object.setPrototypeOf(Element.prototype, LtxElement.prototype);

/** Shorthand builder: xml('iq', {type: 'result'}, xml('query', {xmlns: NS}))`. */
export function xml(name: string, attrs?: Attrs | null, ...children: (Node | undefined | null | false)[]): Element {
  const el = new Element(name, attrs ?? {});
  el.append(...children);
  return el;
}

// Separate non-global testers: a /g regex keeps lastIndex between test() calls.
// A parser turns a literal CR into LF, and tab/LF/CR in an attribute value into spaces (XML
// 2.11, 3.3.3), so those go out as character references to survive the trip.
const ESCAPE_TEXT = /[&<>\r]/g;
const ESCAPE_ATTR = /[&<>"'\t\n\r]/g;
const NEEDS_TEXT = /[&<>\r]/;
const NEEDS_ATTR = /[&<>"'\t\n\r]/;
const ENTITIES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};
const replaceEntity = (c: string): string => ENTITIES[c]!;

export function escapeText(s: string): string {
  return NEEDS_TEXT.test(s) ? s.replace(ESCAPE_TEXT, replaceEntity) : s;
}

export function escapeAttr(s: string): string {
  return NEEDS_ATTR.test(s) ? s.replace(ESCAPE_ATTR, replaceEntity) : s;
}

/** Opening tag only, for stream headers: `<stream:stream ...>`. */
export function openTag(name: string, attrs: Attrs): string {
  let s = '<' + name;
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) s += ' ' + k + '="' + escapeAttr(v) + '"';
  }
  return s + '>';
}

export function serialize(el: Element): string {
  let s = '<' + el.name;
  const attrs = el.attrs;
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) s += ' ' + k + '="' + escapeAttr(v) + '"';
  }
  const children = el.children;
  if (children.length === 0) return s + '/>';
  s += '>';
  for (let i = 0; i < children.length; i++) {
    const c = children[i]!;
    s += typeof c === 'string' ? escapeText(c) : serialize(c);
  }
  return s + '</' + el.name + '>';
}
