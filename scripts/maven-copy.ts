// Copies what a pom.xml lists into a folder with Maven's dependency plugin, from Maven Central
// or the local ~/.m2 cache. Shared by `npm run hazelcast:fetch` and `npm run smack:fetch`:
// both pin their artifacts in a pom that builds nothing and only names the output folder.
import { spawnSync } from 'node:child_process';

/**
 * Runs `mvn dependency:copy-dependencies` on `pom`, writing into `folder` through the pom's
 * `property` (its output directory). Null when done, else the reason.
 */
export function mavenCopy(root: string, pom: string, property: string, folder: string): string | null {
  const run = spawnSync('mvn', ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', `-D${property}=${folder}`], {
    cwd: root,
    encoding: 'utf8',
  });
  if (run.status === 0) return null;
  // Quiet Maven says nothing but errors, and some versions pad even that with colour codes.
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '').trim();
  return `mvn exited with ${run.status ?? run.signal} (is Maven Central reachable?)${output ? `:\n${output}` : ''}`;
}
