// Result Set Management (XEP-0059): the <set/> a requester pages with and the <set/> a
// responder describes a page with. Shared by every paged query (message archives, and
// later group chat archives and PEP), which each map `after`/`before` to their own items.
import { xml, type Element } from './element.ts';
import { StanzaError } from './errors.ts';

export const NS_RSM = 'http://jabber.org/protocol/rsm';

export interface RsmRequest {
  /** Most items wanted; undefined when the requester left it to the responder. */
  max?: number;
  /** Items after this one (forward paging). */
  after?: string;
  /**
   * Items before this one (backward paging); '' asks for the last page. Undefined: page
   * forward from `after` or the start.
   */
  before?: string;
  /** A page by position (XEP-0059 2.5). */
  index?: number;
}

/** The largest number RSM's fields may carry here: beyond it, the request is malformed. */
const MAX_NUMBER = 2 ** 31 - 1;

function nonNegative(text: string, field: string): number {
  const value = text.trim();
  if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_NUMBER) {
    throw new StanzaError('bad-request', `RSM <${field}/> must be a non-negative integer`);
  }
  return Number(value);
}

/** Reads the <set/> child of a query, if any; a malformed one is bad-request. */
export function parseRsm(parent: Element): RsmRequest | undefined {
  const set = parent.getChild('set', NS_RSM);
  if (!set) return undefined;
  const request: RsmRequest = {};
  for (const child of set.getChildElements()) {
    const text = child.getText();
    switch (child.localName) {
      case 'max':
        request.max = nonNegative(text, 'max');
        break;
      case 'after':
        if (text === '') throw new StanzaError('bad-request', 'RSM <after/> must name an item');
        request.after = text;
        break;
      case 'before':
        request.before = text;
        break;
      case 'index':
        request.index = nonNegative(text, 'index');
        break;
      default:
        // Unknown children (a future extension) are ignored, as XMPP does with payloads.
        break;
    }
  }
  if (request.after !== undefined && request.before !== undefined) {
    throw new StanzaError('bad-request', 'RSM <after/> and <before/> cannot be used together');
  }
  return request;
}

export interface RsmPage {
  /** First and last item of the page, in the order the items are sent. */
  first?: string;
  last?: string;
  /** Position of `first` in the whole result set, if known. */
  firstIndex?: number;
  /** Items in the whole result set, if known. */
  count?: number;
}

/** The responder's <set/>: first/last only for a page with items (XEP-0059 2.1, 2.6). */
export function rsmElement(page: RsmPage): Element {
  const set = xml('set', { xmlns: NS_RSM });
  if (page.first !== undefined) {
    set.append(xml('first', page.firstIndex === undefined ? {} : { index: String(page.firstIndex) }, page.first));
  }
  if (page.last !== undefined) set.append(xml('last', {}, page.last));
  if (page.count !== undefined) set.append(xml('count', {}, String(page.count)));
  return set;
}
