// The example plugin: a tiny echo service, written as the template for plugin authors (the
// guide is docs/plugins.md). A client sends
//   <iq type='get' to='DOMAIN'><echo xmlns='urn:xmppd:example:echo'>hi</echo></iq>
// and gets the text back. It shows each kind of registration a plugin makes: a disco
// feature, an IQ handler, a system property declared in plugin.json, a public HTTP route,
// an admin route with a console page, and an unload step. Everything goes through `ctx`, so
// the server removes it all when the plugin is removed or replaced by a newer version.
import { StanzaError, xml } from 'xmppd';

const NS_ECHO = 'urn:xmppd:example:echo';

// Echo replies carry the text back unchanged.
const transform = (text) => text;

export default {
  /** @param {import('xmppd').PluginContext} ctx */
  load(ctx) {
    // Declared in plugin.json, so `xmppd property set` checks its bounds even offline.
    const maxLength = ctx.property('example.echo.max-length');
    const stats = { echoes: 0, since: new Date().toISOString() };

    ctx.feature(NS_ECHO);
    ctx.iq('host', 'get', NS_ECHO, ({ payload }) => {
      const text = payload.getText();
      if (text.length > maxLength.value) {
        throw new StanzaError('not-acceptable', `At most ${maxLength.value} characters are echoed`);
      }
      stats.echoes++;
      return xml('echo', { xmlns: NS_ECHO, version: ctx.manifest.version }, transform(text));
    });

    // Served at /plugins/example/hello on the client HTTP listeners, to anyone: no
    // authentication there, so a public route shows only what anybody may know.
    ctx.httpRoute({ method: 'GET', path: '/hello', handler: () => ({ service: 'echo', xmlns: NS_ECHO, version: ctx.manifest.version }) });

    // Served at /plugins/example/stats on the admin listener, to administrators only.
    ctx.adminRoute({ method: 'GET', path: '/stats', handler: () => ({ ...stats, version: ctx.manifest.version }) });
    ctx.adminPage({ id: 'stats', title: 'Echo statistics', path: '/stats' });

    ctx.log.info('echo service ready', { maxLength: maxLength.value });
    ctx.onUnload(() => ctx.log.info('echo service stopped', { echoes: stats.echoes }));
  },
};
