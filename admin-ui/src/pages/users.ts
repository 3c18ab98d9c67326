// The accounts of the domain: a list searched by name on the server (GET /api/users, a page
// at a time, since a domain may hold millions), creating an account, changing a password in
// place, and deleting an account after a confirmation that says what goes with it.
import { createUser, deleteUser, describe, setUserPassword, users } from '../api.ts';
import type { User } from '../api-types.ts';
import { h, message, setMessage } from '../dom.ts';
import { count } from '../format.ts';
import type { Route } from '../router.ts';

const PAGE_SIZE = 20;
/** Typing pauses this long before the search goes to the server. */
const SEARCH_DELAY_MS = 300;

export const usersPage: Route = {
  path: '/users',
  title: 'Users',
  render(main) {
    const status = h('div', { class: 'messages', id: 'users-message' });
    const list = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const range = h('span', { class: 'hint', id: 'users-range' });
    const previous = h('button', { type: 'button', class: 'secondary', disabled: true, 'aria-label': 'Previous page' }, 'Previous');
    const next = h('button', { type: 'button', class: 'secondary', disabled: true, 'aria-label': 'Next page' }, 'Next');
    const search = h('input', { id: 'user-search', type: 'search', placeholder: 'part of a user name', autocomplete: 'off', spellcheck: 'false' });
    let offset = 0;
    /** Loads so far: an answer that a later load overtook is dropped. */
    let loads = 0;
    let typing: ReturnType<typeof setTimeout> | undefined;

    const load = async (): Promise<void> => {
      const mine = ++loads;
      const words = search.value.trim();
      try {
        const page = await users(words, PAGE_SIZE, offset);
        if (mine !== loads) return;
        if (!page.users.length && offset > 0 && page.total > 0) {
          // The last page emptied (a deletion, another administrator): show the one before.
          offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
          return load();
        }
        list.replaceChildren(page.users.length
          ? h('table', { class: 'users' },
            h('thead', {}, h('tr', {}, ...['User name', 'JID', 'Sessions online', ''].map((label) => h('th', { scope: 'col' }, label)))),
            h('tbody', {}, ...page.users.map(row)))
          : h('p', {}, words
            ? `No user name contains “${words}”.`
            : 'There are no accounts yet. Create one above, or on the server: npx xmppd user add name@domain \'password\'.'));
        range.textContent = page.total ? `${count(offset + 1)}–${count(offset + page.users.length)} of ${count(page.total)}` : '';
        previous.disabled = offset === 0;
        next.disabled = offset + page.users.length >= page.total;
      } catch (err) {
        if (mine !== loads) return;
        list.replaceChildren(message('error', `Cannot list the users: ${describe(err)}`));
        range.textContent = '';
        previous.disabled = offset === 0;
        next.disabled = true;
      }
    };

    const remove = async (user: User): Promise<void> => {
      const sessions = user.sessions === 1 ? 'Its session online ends' : user.sessions ? `Its ${user.sessions} sessions online end` : 'Any session it opens ends';
      if (!window.confirm(`Delete the account ${user.jid}? ${sessions} at once, on every node, and everything it owns is deleted `
        + 'with it: roster, offline messages, vCard, private data, block list and last activity. This cannot be undone.')) return;
      setMessage(status, 'info', `Deleting ${user.jid}…`);
      try {
        await deleteUser(user.username);
        setMessage(status, 'success', `Deleted ${user.jid}: its sessions have ended and everything it owned is gone.`);
      } catch (err) {
        setMessage(status, 'error', describe(err));
      }
      await load();
    };

    /** The row's buttons, or in their place the form for a new password. */
    function row(user: User): HTMLTableRowElement {
      const actions = h('td', { class: 'actions' });
      const change = h('button', { type: 'button', class: 'secondary', 'aria-label': `Change the password of ${user.username}` }, 'Change password');
      const buttons = [change, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${user.username}`, onclick: () => void remove(user) }, 'Delete')];
      const showButtons = (): void => {
        actions.replaceChildren(...buttons);
      };
      change.addEventListener('click', () => {
        const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, 'aria-label': `New password for ${user.username}` });
        const save = h('button', { type: 'submit' }, 'Save');
        const messages = h('div', { class: 'messages field-message' });
        const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => {
          showButtons();
          change.focus();
        } }, 'Cancel');
        const form = h('form', { class: 'row-form' }, password, save, cancel, messages);
        form.addEventListener('submit', (event) => {
          event.preventDefault();
          save.disabled = true;
          setUserPassword(user.username, password.value).then(() => {
            showButtons();
            setMessage(status, 'success', `The password of ${user.jid} is changed. Sessions already open stay open.`);
            change.focus();
          }, (err: unknown) => {
            setMessage(messages, 'error', describe(err));
            save.disabled = false;
          });
        });
        actions.replaceChildren(form);
        password.focus();
      });
      showButtons();
      return h('tr', { 'data-user': user.username },
        h('td', {}, h('strong', {}, user.username)),
        h('td', {}, h('code', {}, user.jid)),
        h('td', { class: 'number' }, count(user.sessions)),
        actions);
    }

    const username = h('input', { id: 'user-new-name', name: 'username', type: 'text', autocomplete: 'off', spellcheck: 'false', required: true });
    const password = h('input', { id: 'user-new-password', name: 'password', type: 'password', autocomplete: 'new-password', required: true });
    const create = h('button', { type: 'submit' }, 'Create');
    const created = h('div', { class: 'messages', id: 'user-create-message' });
    const form = h('form', { class: 'inline-form' },
      h('label', { for: 'user-new-name' }, 'User name'), username,
      h('label', { for: 'user-new-password' }, 'Password'), password,
      create);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      create.disabled = true;
      setMessage(created, 'info', '');
      // USER_EXISTS and USER_INVALID come with a message naming the account or the problem.
      createUser(username.value.trim(), password.value).then((user) => {
        setMessage(created, 'success', `Created ${user.jid}.`);
        form.reset();
        void load();
      }, (err: unknown) => setMessage(created, 'error', describe(err))).finally(() => {
        create.disabled = false;
      });
    });

    const searchNow = (): void => {
      clearTimeout(typing);
      offset = 0;
      void load();
    };
    search.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(searchNow, SEARCH_DELAY_MS);
    });
    const searchForm = h('form', { class: 'inline-form', role: 'search' }, h('label', { for: 'user-search' }, 'Search'), search, range);
    searchForm.addEventListener('submit', (event) => {
      event.preventDefault();
      searchNow();
    });
    previous.addEventListener('click', () => {
      offset = Math.max(0, offset - PAGE_SIZE);
      void load();
    });
    next.addEventListener('click', () => {
      offset += PAGE_SIZE;
      void load();
    });

    main.append(
      h('h1', {}, 'Users'),
      h('p', { class: 'hint' }, 'The accounts of this domain, stored in the shared database: a change here holds for every node.'),
      h('section', { class: 'card wide' }, h('h2', {}, 'New user'),
        form, created,
        h('p', { class: 'hint' }, 'A user name of this domain (the part before the @), or a bare JID of this domain.')),
      h('section', { class: 'card wide' }, h('h2', {}, 'Accounts'),
        searchForm, status, list,
        h('p', { class: 'pager' }, previous, next)));
    void load();
    return () => clearTimeout(typing);
  },
};
