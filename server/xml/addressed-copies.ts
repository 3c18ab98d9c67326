// One stanza for many recipients, serialized once: the text without its `to`, split right
// after the element's name, where each copy's `to` attribute goes. A copy is then three
// string concatenations instead of a clone and a serialization per recipient, and the two
// parts cross a cluster link once for every recipient on the node at the other end.
import { Element, escapeAttr, serialize } from './element.ts';

export interface AddressedTemplate {
  /** `<message` (the start of the start tag, up to the name's end). */
  readonly head: string;
  /** The rest of the serialization: the other attributes, the children, the end tag. */
  readonly tail: string;
}

export function addressedTemplate(stanza: Element): AddressedTemplate {
  // A shallow stand-in without `to`: the caller's element is left as it is, children shared.
  const text = serialize(new Element(stanza.name, { ...stanza.attrs, to: undefined }, stanza.children));
  const head = '<' + stanza.name;
  return { head, tail: text.slice(head.length) };
}

/** The serialized copy addressed to `to` (a full JID). */
export function addressedCopy(template: AddressedTemplate, to: string): string {
  return template.head + ' to="' + escapeAttr(to) + '"' + template.tail;
}
