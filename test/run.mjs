// `npm test`: build, typecheck, lint, then every vitest project (unit, components,
// integration against real sshd/QEMU, lab, faults, UI in Chromium). Ends with the plain
// line `N passed, N failed, N skipped` that counts every check and test that ran.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const projects = args.length ? args : ['unit', 'components', 'integration', 'lab', 'faults', 'ui'];
let passed = 0;
let failed = 0;
let skipped = 0;
const started = Date.now();

function stage(name, cmd, cmdArgs) {
  const t = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  const ok = r.status === 0;
  console.log(`=== ${name}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  if (ok) passed++;
  else failed++;
  return ok;
}

if (!stage('build', 'npm', ['run', 'build'])) {
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(1);
}
stage('typecheck', 'npm', ['run', 'typecheck']);
// native unit tests: the host agent's decision/parsers (C) and the TCG shim
const nativeOut = mkdtempSync(join(tmpdir(), 'lockstep-native-'));
stage('native: agent unit tests', 'make', ['-s', '-C', 'native/agent', 'test']);
stage('native: TCG shim test', 'make', ['-s', '-C', 'native/qemu-tcg', `OUTDIR=${nativeOut}`, 'test']);
rmSync(nativeOut, { recursive: true, force: true });
stage('lint', 'npm', ['run', 'lint']);

const outDir = mkdtempSync(join(tmpdir(), 'lockstep-vitest-'));
const report = join(outDir, 'report.json');
const t = Date.now();
console.log(`\n=== vitest: ${projects.join(', ')}`);
const r = spawnSync(
  'npx',
  ['vitest', 'run', ...projects.flatMap((p) => ['--project', p]), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
  { stdio: 'inherit' },
);
try {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed += j.numPassedTests;
  failed += j.numFailedTests;
  skipped += j.numPendingTests + (j.numTodoTests ?? 0);
  // a test file that failed to load has no tests but is a failure
  failed += (j.testResults ?? []).filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  // where the time went: the slowest files (to keep the whole run inside CI's budget)
  const files = (j.testResults ?? []).map((f) => ({ s: (f.endTime - f.startTime) / 1000, name: f.name.replace(`${process.cwd()}/`, '') }));
  console.log('\nslowest test files:');
  for (const f of files.sort((a, b) => b.s - a.s).slice(0, 12)) console.log(`  ${f.s.toFixed(0).padStart(5)} s  ${f.name}`);
} catch {
  failed++;
  console.log('vitest produced no report');
}
if (r.status !== 0 && failed === 0) failed++;
rmSync(outDir, { recursive: true, force: true });
console.log(`=== vitest: ${((Date.now() - t) / 1000).toFixed(1)} s; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
