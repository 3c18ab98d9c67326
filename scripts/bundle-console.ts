// Builds the admin console (admin-ui/) into dist/console/, which the admin listener serves
// (server/http/admin/console-assets.ts): admin-ui/src/main.ts and what it imports bundled by
// esbuild into one script, admin-ui/console.css into one style sheet, both named after a hash
// of their content so that browsers may keep them for good, and admin-ui/index.html filled in
// with those names. Run by `npm install` / `npm ci` (the prepare script) and `npm run build`.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'admin-ui');
/** Where the admin listener looks (CONSOLE_DIR in console-assets.ts). */
export const CONSOLE_OUT = join(ROOT, 'dist', 'console');
/** Copied as they are, under their own names. */
const STATIC_FILES = ['favicon.svg'];

export interface BundledConsole {
  dir: string;
  /** File names written to `dir`, index.html last. */
  files: string[];
}

/** Builds the console into `outDir`; throws with esbuild's messages when the sources do not build. */
export async function bundleConsole(outDir: string = CONSOLE_OUT): Promise<BundledConsole> {
  const result = await build({
    entryPoints: [
      { in: join(SOURCE, 'src', 'main.ts'), out: 'console' },
      { in: join(SOURCE, 'console.css'), out: 'console' },
    ],
    entryNames: '[name]-[hash]',
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    charset: 'utf8',
    write: false,
    logLevel: 'warning',
  });
  const named = (ext: string): { name: string; contents: Uint8Array } => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext))!;
    return { name: basename(file.path), contents: file.contents };
  };
  const script = named('.js');
  const style = named('.css');
  const template = readFileSync(join(SOURCE, 'index.html'), 'utf8');
  const page = template.replace('{{script}}', script.name).replace('{{style}}', style.name);
  if (page.includes('{{')) throw new Error('admin-ui/index.html has a placeholder other than {{script}} and {{style}}');

  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const file of [script, style, ...STATIC_FILES.map((name) => ({ name, contents: readFileSync(join(SOURCE, name)) }))]) {
    writeFileSync(join(outDir, file.name), file.contents);
    written.push(file.name);
  }
  // index.html last, and whole: a node serving this folder meanwhile never names a missing file.
  writeFileSync(join(outDir, '.index.html.partial'), page);
  renameSync(join(outDir, '.index.html.partial'), join(outDir, 'index.html'));
  written.push('index.html');
  // Scripts and styles of earlier builds are no longer named by index.html.
  for (const name of readdirSync(outDir)) if (!written.includes(name)) rmSync(join(outDir, name), { force: true });
  return { dir: outDir, files: written };
}

// Run as a script.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const built = await bundleConsole();
    process.stdout.write(`${relative(ROOT, built.dir)}/  admin console  (${built.files.join(', ')})\n`);
  } catch (err) {
    // esbuild has printed the errors with file and line.
    process.stderr.write(`bundle-console: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exit(1);
  }
}
