// The filters of an archive query (XEP-0313 4.1), read from its data form (XEP-0004):
// with, start, end, and those of urn:xmpp:mam:2#extended, before-id, after-id and ids.
// Anything malformed is a bad-request (a JID that is not one: jid-malformed), so a client
// learns what it did wrong instead of getting an unfiltered archive.
import { JID } from '../../jid/jid.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_MAM } from './prefs.ts';

const NS_DATA = 'jabber:x:data';

export interface QueryForm {
  with?: JID;
  start?: Date;
  end?: Date;
  afterId?: string;
  beforeId?: string;
  ids?: string[];
}

/** XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD. */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function date(text: string, field: string): Date {
  const value = text.trim();
  const ms = DATETIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new StanzaError('bad-request', `${field} must be an XEP-0082 date and time, like 2026-01-31T12:00:00Z`);
  return new Date(ms);
}

function single(field: Element, name: string): string {
  const values = field.getChildren('value');
  if (values.length !== 1) throw new StanzaError('bad-request', `${name} takes one value`);
  return values[0]!.getText();
}

/** Reads the query's form; no form means no filter. `maxIds` bounds the ids field. */
export function parseQueryForm(query: Element, maxIds: number): QueryForm {
  const form = query.getChild('x', NS_DATA);
  const out: QueryForm = {};
  if (!form) return out;
  if (form.attrs.type !== undefined && form.attrs.type !== 'submit') throw new StanzaError('bad-request', "the form must be of type 'submit'");
  for (const field of form.getChildren('field')) {
    const name = field.attrs.var;
    switch (name) {
      case 'FORM_TYPE':
        if (single(field, name) !== NS_MAM) throw new StanzaError('bad-request', `FORM_TYPE must be ${NS_MAM}`);
        break;
      case 'with': {
        const jid = JID.tryParse(single(field, name).trim());
        if (!jid) throw new StanzaError('jid-malformed', 'with is not a JID');
        out.with = jid;
        break;
      }
      case 'start':
        out.start = date(single(field, name), name);
        break;
      case 'end':
        out.end = date(single(field, name), name);
        break;
      case 'after-id':
        out.afterId = single(field, name);
        break;
      case 'before-id':
        out.beforeId = single(field, name);
        break;
      case 'ids': {
        const ids = field.getChildren('value').map((v) => v.getText());
        if (ids.length > maxIds) throw new StanzaError('policy-violation', `at most ${maxIds} ids in one query`);
        out.ids = ids;
        break;
      }
      default:
        throw new StanzaError('bad-request', `unknown field: ${name ?? '(no var)'}`);
    }
  }
  return out;
}

/** The form a client asks for to learn which fields it may use (XEP-0313 4.1.5). */
export function queryFormElement(): Element {
  const field = (v: string, type: string): Element => xml('field', { var: v, type });
  return xml('query', { xmlns: NS_MAM },
    xml('x', { xmlns: NS_DATA, type: 'form' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM)),
      field('with', 'jid-single'),
      field('start', 'text-single'),
      field('end', 'text-single'),
      field('before-id', 'text-single'),
      field('after-id', 'text-single'),
      field('ids', 'list-multi')));
}
