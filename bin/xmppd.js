#!/usr/bin/env node
// The xmppd command. The server is TypeScript run as it is: tsx compiles each module on load.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
