// Answers one archive query (XEP-0313 4): the form's filters and RSM paging (XEP-0059)
// become one filter on archive positions; the page is read with one more message than asked
// for, which tells whether it is the last one in the paging direction (complete). Results
// go to the requester as <message><result/></message> before the IQ result, which carries
// <fin/>.
import type { ArchivedMessage, ArchiveFilter, ArchiveRepository } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { parseRsm, rsmElement, type RsmPage } from '../../xml/rsm.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { NS_MAM } from './prefs.ts';
import { parseQueryForm } from './query-form.ts';

const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_DELAY = 'urn:xmpp:delay';

export interface QueryLimits {
  /** Most messages in one page, whatever <max/> asks. */
  maxPage: number;
  /** Counts stop here (0: no count); beyond it <count/> and the index are left out. */
  countLimit: number;
}

export interface QueryRequest {
  owner: string;
  /** The archive's JID, the sender of the results. */
  archiveJid: string;
  query: Element;
  /** Writes one result message to the requester. */
  send(message: Element): void;
}

async function positionOf(archive: ArchiveRepository, owner: string, id: string): Promise<number> {
  const seq = await archive.position(owner, id);
  if (seq === null) throw new StanzaError('item-not-found', `no message ${id} in the archive`);
  return seq;
}

const lower = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
const higher = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

export async function runArchiveQuery(archive: ArchiveRepository, req: QueryRequest, limits: QueryLimits): Promise<Element> {
  const { owner, query } = req;
  const form = parseQueryForm(query, limits.maxPage);
  const rsm = parseRsm(query) ?? {};
  if (rsm.index !== undefined) throw new StanzaError('feature-not-implemented', 'paging by index is not supported; use after and before');
  const max = Math.min(rsm.max ?? limits.maxPage, limits.maxPage);
  const flip = query.getChild('flip-page') !== undefined;

  // The result set of the query: what the form selects.
  const filter: ArchiveFilter = {};
  if (form.with) filter.with = { bare: form.with.bareString(), resource: form.with.resource || undefined };
  if (form.start) filter.start = form.start;
  if (form.end) filter.end = form.end;
  if (form.ids) filter.ids = form.ids;
  if (form.afterId !== undefined) filter.afterSeq = await positionOf(archive, owner, form.afterId);
  if (form.beforeId !== undefined) filter.beforeSeq = await positionOf(archive, owner, form.beforeId);

  // The page of it that RSM asks for.
  const backward = rsm.before !== undefined;
  const window: ArchiveFilter = { ...filter };
  if (rsm.after !== undefined) window.afterSeq = higher(filter.afterSeq, await positionOf(archive, owner, rsm.after));
  if (rsm.before) window.beforeSeq = lower(filter.beforeSeq, await positionOf(archive, owner, rsm.before));

  const read = await archive.page(owner, window, max + 1, backward);
  const complete = read.length <= max;
  const items = read.slice(0, max);
  if (backward) items.reverse(); // oldest first, as pages are sent
  const chronological = items.slice();
  if (flip) items.reverse();

  for (const item of items) req.send(resultMessage(req, item));

  const page: RsmPage = {};
  if (items.length) {
    page.first = items[0]!.id;
    page.last = items[items.length - 1]!.id;
  }
  if (limits.countLimit > 0) {
    const count = await archive.count(owner, filter, limits.countLimit);
    if (count !== null) {
      page.count = count;
      // The index of the page's first message in the result set (its oldest unless flipped).
      if (items.length && !flip) page.firstIndex = (await archive.count(owner, { ...filter, beforeSeq: lower(filter.beforeSeq, chronological[0]!.seq) }, limits.countLimit)) ?? undefined;
    }
  }
  const fin = xml('fin', { xmlns: NS_MAM, complete: complete ? 'true' : undefined }, rsmElement(page));
  return fin;
}

function resultMessage(req: QueryRequest, item: ArchivedMessage): Element {
  let original: Element;
  try {
    original = parseXml(item.stanza);
  } catch {
    // A row that no longer parses (written by hand, say) is shown as an empty message
    // rather than failing the whole page.
    original = xml('message');
  }
  original.attrs.xmlns ??= 'jabber:client';
  return xml('message', { from: req.archiveJid, id: item.id },
    xml('result', { xmlns: NS_MAM, queryid: req.query.attrs.queryid, id: item.id },
      xml('forwarded', { xmlns: NS_FORWARD },
        xml('delay', { xmlns: NS_DELAY, stamp: item.at.toISOString() }),
        original)));
}
