// The pages plugins add to the console (GET /api/pages). Each is one of the plugin's own admin
// routes, served by this listener behind the same login, and is shown inside the console in a
// frame (the console's policy lets it frame this listener's pages only), or in a tab of its own.
import { adminPages, describe } from '../api.ts';
import type { AdminPage } from '../api-types.ts';
import { h, message } from '../dom.ts';
import type { Route } from '../router.ts';

export const pluginPagesPage: Route = {
  path: '/plugin-pages',
  title: 'Plugin pages',
  render(main) {
    const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const shown = h('div', { class: 'plugin-frame' });
    const show = (p: AdminPage): void => {
      shown.replaceChildren(
        h('h2', {}, p.title, ' ', h('span', { class: 'hint' }, `from the plugin ${p.plugin}`)),
        h('iframe', { src: p.url, title: `${p.title} (plugin ${p.plugin})`, id: 'plugin-page', referrerpolicy: 'no-referrer' }));
    };
    main.append(h('h1', {}, 'Plugin pages'), body, shown);
    adminPages().then((pages) => {
      body.replaceChildren(pages.length
        ? h('ul', { class: 'links' }, ...pages.map((p) => h('li', {},
          h('button', { type: 'button', class: 'link', onclick: () => show(p) }, p.title), ' ',
          h('span', { class: 'hint' }, `from the plugin ${p.plugin}`), ' ',
          h('a', { href: p.url, target: '_blank', rel: 'noopener', 'aria-label': `${p.title} in a new tab` }, 'open in a new tab'))))
        : h('p', {}, 'No loaded plugin has added a page.'));
      if (pages.length === 1) show(pages[0]!);
    }, (err: unknown) => body.replaceChildren(message('error', `Cannot list the plugin pages: ${describe(err)}`)));
  },
};
