// Where Smack's integration test framework is put and how it is started, shared by
// `npm run smack:fetch` and test/interop/smack-sint.test.ts. The version is pinned in
// test/interop/smack/pom.xml, the folder is named after it so that a new pin fetches anew.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SMACK_POM = join(ROOT, 'test', 'interop', 'smack', 'pom.xml');
export const SMACK_LAUNCHER = join(ROOT, 'test', 'interop', 'smack', 'SintLauncher.java');

export function smackVersion(): string {
  const match = /<smack\.version>\s*([^<\s]+)\s*<\/smack\.version>/.exec(readFileSync(SMACK_POM, 'utf8'));
  if (!match) throw new Error(`${relative(ROOT, SMACK_POM)}: no <smack.version> property`);
  return match[1]!;
}

/** The folder holding the framework's jars once fetched. */
export function smackLibDir(): string {
  return join(ROOT, 'data', 'smack', smackVersion());
}

/** Why the framework is missing and what to do, worded for CI or for a developer's machine. */
export function missingSmackMessage(): string {
  const what = `Smack's integration test framework is not in ${relative(ROOT, smackLibDir())}`;
  return process.env.CI === 'true'
    ? `${what}: \`npm test\` fetches it with \`npm run smack:fetch\` before the interop tests, and that step did not leave it there`
    : `${what}: run \`npm run smack:fetch\` (needs Maven and Java 17 or later)`;
}
