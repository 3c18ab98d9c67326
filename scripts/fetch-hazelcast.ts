// npm run hazelcast:fetch: puts the Hazelcast member jar pinned in conf/hazelcast/pom.xml into
// data/hazelcast/lib/, with Maven (from Maven Central or the local ~/.m2 cache). Does nothing
// when the jar is already there, so CI and `npm test` can call it every time.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { mavenCopy } from './maven-copy.ts';
import { JAVA_PURPOSE, LIB_DIR, POM, ROOT, memberJar, memberJarName, toolProblem } from './hazelcast-jar.ts';

function fail(message: string): never {
  process.stderr.write(`hazelcast:fetch: ${message}\n`);
  process.exit(1);
}

const javaProblem = toolProblem('java', ['-version'], JAVA_PURPOSE);
if (javaProblem) fail(javaProblem);

const jar = memberJar();
if (existsSync(jar)) {
  process.stdout.write(`hazelcast:fetch: ${memberJarName()} is already there\n`);
  process.exit(0);
}

const mvnProblem = toolProblem('mvn', ['-v'], `the member jar is fetched with Maven (${relative(ROOT, POM)})`);
if (mvnProblem) fail(mvnProblem);

// Maven copies into a folder of its own and the jar is renamed into place at the end, so an
// interrupted fetch never leaves a half-written jar that a later run would take as done.
mkdirSync(LIB_DIR, { recursive: true });
const staging = mkdtempSync(join(LIB_DIR, '.fetch-'));
const problem = copyInto(staging);
rmSync(staging, { recursive: true, force: true });
if (problem) fail(problem);
process.stdout.write(`hazelcast:fetch: ${memberJarName()} fetched\n`);

/** Runs Maven into `folder` and moves the jar into place; null when done, else the reason. */
function copyInto(folder: string): string | null {
  const problem = mavenCopy(ROOT, POM, 'hazelcast.lib.dir', folder);
  if (problem) return problem;
  const fetched = join(folder, basename(jar));
  if (!existsSync(fetched)) return `mvn finished but left no ${basename(jar)} in ${relative(ROOT, folder)}`;
  renameSync(fetched, jar);
  return null;
}
