// The group chat rooms of the service (GET /api/rooms), refreshed every few seconds, with
// creating a persistent room for an owner, and one room in full: its options, affiliations
// and occupants, and destroying it after a confirmation (its occupants are told the reason
// and the room to go to instead).
import { createRoom, describe, destroyRoom, room, rooms } from '../api.ts';
import type { RoomDetail, RoomSummary } from '../api-types.ts';
import { facts, h, message, setMessage, table } from '../dom.ts';
import { count, time } from '../format.ts';
import { every } from '../poll.ts';
import type { Route } from '../router.ts';

const REFRESH_MS = 3000;

export const roomsPage: Route = {
  path: '/rooms',
  title: 'Rooms',
  render(main) {
    const status = h('div', { class: 'messages', id: 'rooms-message' });
    const list = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const detail = h('section', { class: 'card wide', id: 'room-detail', hidden: true });
    const updated = h('p', { class: 'updated' });
    const service = h('code', {});
    /** The room shown in full, by name, or null; and what was last read of it. */
    let selected: string | null = null;
    let current: RoomDetail | null = null;
    /** Reads so far: an answer that a later read overtook is dropped. */
    let reads = 0;

    const view = (all: RoomSummary[]): HTMLElement => {
      if (!all.length) return h('p', {}, 'There are no rooms. Create a persistent one above; users of this server create rooms by joining them.');
      return h('table', { class: 'rooms' },
        h('thead', {}, h('tr', {}, ...['Room', 'Name', 'Occupants', 'Kind', 'Listed', 'Created', ''].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...all.map((r) => h('tr', { 'data-room': r.name },
          h('td', {}, h('code', {}, r.jid)),
          h('td', {}, r.title),
          h('td', { class: 'number' }, count(r.occupants)),
          h('td', {}, r.persistent ? 'persistent' : 'temporary', r.locked ? h('span', { class: 'hint' }, ' (locked)') : null),
          h('td', {}, r.public ? 'public' : 'hidden'),
          h('td', {}, time(r.created)),
          h('td', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', 'aria-label': `Show ${r.name}`, onclick: () => {
            selected = r.name;
            void refresh();
          } }, 'Show'))))));
    };

    /** Built once per room shown, so a refresh keeps what the operator is typing; it reads the room as last refreshed. */
    const destroyForm = (r: RoomDetail): HTMLFormElement => {
      const reason = h('input', { id: 'room-destroy-reason', type: 'text', autocomplete: 'off' });
      const alternate = h('input', { id: 'room-destroy-alternate', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: `other@${r.jid.split('@')[1]}` });
      const button = h('button', { type: 'submit', class: 'danger' }, 'Destroy');
      const form = h('form', { class: 'inline-form' },
        h('label', { for: 'room-destroy-reason' }, 'Reason'), reason,
        h('label', { for: 'room-destroy-alternate' }, 'Alternate room'), alternate, button);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const occupants = current?.occupants.length ?? 0;
        const people = occupants === 1 ? 'Its occupant is' : occupants ? `Its ${occupants} occupants are` : 'Nobody is in it; anyone who joins is';
        if (!window.confirm(`Destroy the room ${r.jid}? ${people} told and leave${alternate.value.trim() ? `, pointed to ${alternate.value.trim()}` : ''}. `
          + 'Its configuration, affiliations and archive are deleted. This cannot be undone.')) return;
        button.disabled = true;
        destroyRoom(r.name, reason.value.trim(), alternate.value.trim()).then(() => {
          setMessage(status, 'success', `Destroyed ${r.jid}.`);
          selected = null;
          void refresh();
        }, (err: unknown) => {
          setMessage(status, 'error', describe(err));
          button.disabled = false;
        });
      });
      return form;
    };

    const drawDetail = (r: RoomDetail): void => {
      current = r;
      const keep = detail.querySelector('form');
      const form = keep && detail.dataset.room === r.name ? keep : destroyForm(r);
      detail.dataset.room = r.name;
      detail.hidden = false;
      detail.replaceChildren(
        h('h2', {}, r.title ? `${r.title} (${r.jid})` : r.jid),
        facts([
          ['Kind', `${r.persistent ? 'persistent' : 'temporary'}, ${r.public ? 'public' : 'hidden'}${r.locked ? ', locked until its owner configures it' : ''}`],
          ['Subject', r.subject || h('span', { class: 'hint' }, 'none')],
          ['Created', time(r.created)],
        ]),
        h('h3', {}, 'Occupants'),
        r.occupants.length
          ? table(['Nick', 'Role', 'Affiliation', 'JID'], r.occupants.map((o) => [o.nick, o.role, o.affiliation, h('code', {}, o.jids.join(' '))]), { class: 'occupants' })
          : h('p', { class: 'hint' }, 'Nobody is in the room.'),
        h('h3', {}, 'Affiliations'),
        r.affiliations.length
          ? table(['JID', 'Affiliation', 'Reason'], r.affiliations.map((a) => [h('code', {}, a.jid), a.affiliation, a.reason]), { class: 'affiliations' })
          : h('p', { class: 'hint' }, 'Nobody has an affiliation: the room has no owner.'),
        h('h3', {}, 'Options'),
        table(['Option', 'Value'], Object.entries(r.options).map(([name, value]) => [h('code', {}, name), String(value)]), { class: 'options' }),
        h('h3', {}, 'Destroy'),
        form);
    };

    const refresh = async (): Promise<void> => {
      const mine = ++reads;
      try {
        const answer = await rooms();
        const shown = selected && answer.rooms.some((r) => r.name === selected) ? await room(selected) : null;
        if (mine !== reads) return;
        service.textContent = answer.service;
        list.replaceChildren(view(answer.rooms));
        if (shown) drawDetail(shown);
        else {
          detail.hidden = true;
          detail.replaceChildren();
        }
        updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}, every ${REFRESH_MS / 1000} s.`;
      } catch (err) {
        if (mine !== reads) return;
        list.replaceChildren(message('error', `Cannot list the rooms: ${describe(err)}`));
      }
    };

    const name = h('input', { id: 'room-new-name', type: 'text', autocomplete: 'off', spellcheck: 'false', required: true });
    const owner = h('input', { id: 'room-new-owner', type: 'text', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'user@domain' });
    const title = h('input', { id: 'room-new-title', type: 'text', autocomplete: 'off' });
    const listed = h('input', { id: 'room-new-public', type: 'checkbox', checked: true });
    const members = h('input', { id: 'room-new-members', type: 'checkbox' });
    const archived = h('input', { id: 'room-new-archive', type: 'checkbox' });
    const create = h('button', { type: 'submit' }, 'Create');
    const created = h('div', { class: 'messages', id: 'room-create-message' });
    const form = h('form', { class: 'inline-form' },
      h('label', { for: 'room-new-name' }, 'Room'), name,
      h('label', { for: 'room-new-owner' }, 'Owner'), owner,
      h('label', { for: 'room-new-title' }, 'Name'), title,
      h('label', {}, listed, ' Public'), h('label', {}, members, ' Members only'), h('label', {}, archived, ' Archived'),
      create);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      create.disabled = true;
      setMessage(created, 'info', '');
      const options = { roomname: title.value.trim(), publicroom: listed.checked, membersonly: members.checked, enablearchiving: archived.checked };
      // ROOM_EXISTS and ROOM_INVALID come with a message naming the room, owner or option.
      createRoom(name.value.trim(), owner.value.trim(), options).then((r) => {
        setMessage(created, 'success', `Created ${r.jid}, owned by ${r.affiliations.find((a) => a.affiliation === 'owner')?.jid ?? owner.value.trim()}.`);
        form.reset();
        selected = r.name;
        void refresh();
      }, (err: unknown) => setMessage(created, 'error', describe(err))).finally(() => {
        create.disabled = false;
      });
    });

    main.append(
      h('h1', {}, 'Rooms'),
      h('p', { class: 'hint' }, 'The group chat rooms (XEP-0045) of ', service, ', with who is in each now.'),
      h('section', { class: 'card wide' }, h('h2', {}, 'New persistent room'), form, created,
        h('p', { class: 'hint' }, 'The room name is the part before the @; the owner a bare JID, who may configure the room from any client.')),
      h('section', { class: 'card wide' }, h('h2', {}, 'Rooms'), status, updated, list),
      detail);
    return every(REFRESH_MS, refresh);
  },
};
