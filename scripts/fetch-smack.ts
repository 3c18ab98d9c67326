// npm run smack:fetch: puts Smack's integration test framework, pinned in
// test/interop/smack/pom.xml, into data/smack/<version>/ with Maven. Does nothing when it is
// already there, so `npm test` can call it every time.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { toolProblem } from './hazelcast-jar.ts';
import { mavenCopy } from './maven-copy.ts';
import { ROOT, SMACK_POM, smackLibDir } from './smack-sint.ts';

function fail(message: string): never {
  process.stderr.write(`smack:fetch: ${message}\n`);
  process.exit(1);
}

const target = smackLibDir();
if (existsSync(target)) {
  process.stdout.write(`smack:fetch: ${relative(ROOT, target)} is already there\n`);
  process.exit(0);
}
const purpose = 'the interoperability tests run Smack\'s integration test framework';
const problem = toolProblem('java', ['-version'], `${purpose} (Java 17 or later)`) ?? toolProblem('mvn', ['-v'], `${purpose}, fetched with Maven`);
if (problem) fail(problem);

// Maven copies into a folder of its own, renamed into place at the end, so that an
// interrupted fetch never leaves a half-filled folder that a later run would take as done.
mkdirSync(dirname(target), { recursive: true });
const staging = mkdtempSync(join(dirname(target), '.fetch-'));
const failure = mavenCopy(ROOT, SMACK_POM, 'smack.lib.dir', staging);
if (failure) {
  rmSync(staging, { recursive: true, force: true });
  fail(failure);
}
renameSync(staging, target);
process.stdout.write(`smack:fetch: ${relative(ROOT, target)} fetched\n`);
