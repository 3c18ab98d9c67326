// The plugins this node found in its plugins folder and what became of each (loaded, failed
// with the reason, loading); installing an archive (.tgz, as `npm run build` makes them) and
// removing one. The API answers once the node has acted, so the list shows the outcome.
import { describe, installPlugin, plugins, removePlugin } from '../api.ts';
import type { Plugin } from '../api-types.ts';
import { h, setMessage, table } from '../dom.ts';
import { time } from '../format.ts';
import type { Route } from '../router.ts';

function stateCell(p: Plugin): HTMLElement {
  return h('div', {},
    h('span', { class: `plugin-state plugin-state-${p.state}` }, p.state),
    p.reason ? h('div', { class: 'reason' }, p.reason) : null);
}

export const pluginsPage: Route = {
  path: '/plugins',
  title: 'Plugins',
  render(main) {
    const list = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const status = h('div', { class: 'messages', id: 'plugins-message' });

    const reload = async (): Promise<void> => {
      try {
        const all = await plugins();
        list.replaceChildren(all.length
          ? table(['Name', 'Version', 'Kind', 'State', 'Since', 'File', ''], all.map((p) => [
            h('div', {}, h('strong', {}, p.name), p.description ? h('div', { class: 'hint' }, p.description) : null),
            p.version ?? '?',
            p.kind ?? '?',
            stateCell(p),
            time(p.since),
            h('code', {}, p.file),
            h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${p.name}`, onclick: () => void remove(p) }, 'Remove'),
          ]), { class: 'plugins' })
          : h('p', {}, 'No plugins are installed. Upload an archive above, or drop one into the plugins folder (plugins_dir in the configuration).'));
      } catch (err) {
        setMessage(status, 'error', `Cannot list the plugins: ${describe(err)}`);
      }
    };

    const remove = async (p: Plugin): Promise<void> => {
      if (!window.confirm(`Remove the plugin ${p.name}? Everything it added is unloaded at once.`)) return;
      setMessage(status, 'info', `Removing ${p.name}…`);
      try {
        await removePlugin(p.name);
        setMessage(status, 'success', `Removed ${p.name}.`);
      } catch (err) {
        setMessage(status, 'error', describe(err));
      }
      await reload();
    };

    const file = h('input', { id: 'plugin-archive', type: 'file', accept: '.tgz,.tar.gz,application/gzip', required: true });
    const submit = h('button', { type: 'submit' }, 'Install');
    const form = h('form', { class: 'inline-form' },
      h('label', { for: 'plugin-archive' }, 'Plugin archive (.tgz)'), file, submit);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const archive = file.files?.[0];
      if (!archive) {
        setMessage(status, 'error', 'Choose a plugin archive (.tgz) first.');
        return;
      }
      submit.disabled = true;
      setMessage(status, 'info', `Installing ${archive.name}…`);
      installPlugin(archive).then(({ plugin, replaced }) => {
        setMessage(status, 'success', `Installed ${plugin.name} ${plugin.version ?? ''}${replaced ? ` (replacing ${replaced})` : ''}.`);
        form.reset();
      }, (err: unknown) => setMessage(status, 'error', describe(err))).finally(() => {
        submit.disabled = false;
        void reload();
      });
    });

    main.append(
      h('h1', {}, 'Plugins'),
      h('p', { class: 'hint' }, 'A plugin is loaded, upgraded and unloaded while clients stay connected. Installing here puts the archive into this node\'s plugins folder; other nodes need it too.'),
      form, status, list);
    void reload();
  },
};
