// The frame around every page once logged in: the header with who is logged in and the
// logout button, the navigation, and the main area the router draws pages into.
import { h } from './dom.ts';
import type { Route } from './router.ts';

export interface Shell {
  main: HTMLElement;
  /** Marks the route's link as the current page. */
  markCurrent(route: Route): void;
}

export function drawShell(root: HTMLElement, routes: readonly Route[], jid: string, logOut: () => void): Shell {
  const links = routes.map((route) => h('a', { href: `#${route.path}`, 'data-path': route.path }, route.title));
  const main = h('main', { id: 'main', tabindex: -1 });
  root.replaceChildren(
    h('header', { class: 'top' },
      h('span', { class: 'brand' }, 'xmppd admin'),
      h('span', { class: 'who' }, 'Logged in as ', h('strong', {}, jid)),
      h('button', { type: 'button', class: 'secondary', onclick: logOut }, 'Log out')),
    h('div', { class: 'frame' },
      h('nav', { 'aria-label': 'Console pages' }, h('ul', {}, ...links.map((a) => h('li', {}, a)))),
      main));
  return {
    main,
    markCurrent(route) {
      for (const a of links) {
        if (a.dataset.path === route.path) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
  };
}
