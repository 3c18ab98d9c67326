#!/usr/bin/env node
// The xmppd command. The server is TypeScript run as it is: tsx compiles each module on load.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// The command is over (for `start`, the server has stopped). Normally the process ends now;
// a handle left open by a failure half-way (a pool, a listening socket) must not keep it up.
setTimeout(() => process.exit(), 3000).unref();
