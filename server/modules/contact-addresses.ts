// XEP-0157 contact addresses of the service, from system properties, as the XEP-0128
// extended form of the server's disco#info. Each property is a checked list of URIs
// (mailto:, xmpp:, https: ...); only the kinds that have addresses appear in the form, and
// no form at all while none has any.
import type { PropertyDefinition } from '../properties/types.ts';
import { xml, type Element } from '../xml/element.ts';

export const SERVERINFO_FORM_TYPE = 'http://jabber.org/network/serverinfo';

const KINDS = ['abuse', 'admin', 'feedback', 'sales', 'security', 'support'] as const;
type Kind = (typeof KINDS)[number];

const WHAT: Record<Kind, string> = {
  abuse: 'to report abuse of the service',
  admin: 'of the service\'s administrators',
  feedback: 'for feedback on the service',
  sales: 'for sales and commercial questions',
  security: 'to report security problems',
  support: 'for help with the service',
};

export const CONTACT_PROPERTIES: Record<Kind, PropertyDefinition<string>> = Object.fromEntries(KINDS.map((kind) => [kind, {
  name: `xmpp.contact.${kind}`,
  type: 'uri-list',
  default: '',
  description: `Addresses ${WHAT[kind]} (XEP-0157), as URIs: mailto:, xmpp:, https: ...; shown in the server's service discovery`,
  live: true,
} satisfies PropertyDefinition<string>])) as Record<Kind, PropertyDefinition<string>>;

/** The form for the current values (by kind), or null when no kind has an address. */
export function contactForm(values: Record<Kind, string>): Element | null {
  const form = xml('x', { xmlns: 'jabber:x:data', type: 'result' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', null, SERVERINFO_FORM_TYPE)));
  let any = false;
  for (const kind of KINDS) {
    const addresses = values[kind].split(/[\s,]+/).filter((a) => a !== '');
    if (!addresses.length) continue;
    any = true;
    form.append(xml('field', { var: `${kind}-addresses`, type: 'list-multi' }, ...addresses.map((a) => xml('value', null, a))));
  }
  return any ? form : null;
}
