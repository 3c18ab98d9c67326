// Registering a nick with a room (XEP-0045 7.10, jabber:iq:register at the room's bare JID):
// the form a member is sent and reading the one it submits. What a registration does (the
// nick reserved against everyone else, kept with the member's affiliation) is the room's.
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { formValues } from '../pep/data-form.ts';
import { NS_DATA, NS_MUC_REGISTER, NS_REGISTER } from './namespaces.ts';

/** The muc#register form, or the nick already registered (XEP-0045 7.10, examples 75 and 77). */
export function registrationQuery(registered: string | undefined): Element {
  if (registered !== undefined) return xml('query', { xmlns: NS_REGISTER }, xml('registered'), xml('username', null, registered));
  return xml('query', { xmlns: NS_REGISTER },
    xml('instructions', null, 'Register a nickname with this room: nobody else may use it here.'),
    xml('x', { xmlns: NS_DATA, type: 'form' },
      xml('title', null, 'Nickname registration'),
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', null, NS_MUC_REGISTER)),
      xml('field', { var: 'muc#register_roomnick', type: 'text-single', label: 'Nickname' }, xml('required'))));
}

/** What a jabber:iq:register set asks: a nick to register, to give up the registration, or nothing (a cancelled form). */
export type RegistrationRequest = { nick: string } | { remove: true } | { cancel: true };

export function readRegistration(query: Element): RegistrationRequest {
  if (query.getChild('remove')) return { remove: true };
  const form = query.getChild('x', NS_DATA);
  if (form?.attrs.type === 'cancel') return { cancel: true };
  if (!form || form.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Submit the registration form');
  const values = formValues(form);
  const formType = values.get('FORM_TYPE');
  if (formType !== undefined && formType !== NS_MUC_REGISTER) throw new StanzaError('bad-request', 'That is not a muc#register form');
  const nick = values.get('muc#register_roomnick')?.trim() ?? '';
  if (!nick) throw new StanzaError('not-acceptable', 'The form needs muc#register_roomnick');
  return { nick };
}
