// Links to the pages plugins add to the console (GET /api/pages). Each is one of the plugin's
// own admin routes, served by this listener behind the same login.
import { adminPages, describe } from '../api.ts';
import { h, message } from '../dom.ts';
import type { Route } from '../router.ts';

export const pluginPagesPage: Route = {
  path: '/plugin-pages',
  title: 'Plugin pages',
  render(main) {
    const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    main.append(h('h1', {}, 'Plugin pages'), body);
    adminPages().then((pages) => {
      body.replaceChildren(pages.length
        ? h('ul', { class: 'links' }, ...pages.map((p) => h('li', {},
          h('a', { href: p.url, target: '_blank', rel: 'noopener' }, p.title), ' ', h('span', { class: 'hint' }, `from the plugin ${p.plugin}`))))
        : h('p', {}, 'No loaded plugin has added a page.'));
    }, (err: unknown) => body.replaceChildren(message('error', `Cannot list the plugin pages: ${describe(err)}`)));
  },
};
