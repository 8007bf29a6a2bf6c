#!/usr/bin/env node
// The suite under load (issue 12 item 7): one core kept busy by another process while the whole
// suite runs N times in a row (default 5); stops at the first failing round.
// Usage: npm run test:loaded [-- 3]     (DATABASE_URL as for npm test)
import { spawn, spawnSync } from 'node:child_process';

const rounds = Number(process.argv[2] ?? 5);
const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
let code = 0;
try {
  for (let round = 1; round <= rounds && code === 0; round += 1) {
    process.stderr.write(`\ntest:loaded: round ${round} of ${rounds}, one core kept busy by pid ${busy.pid}\n`);
    code = spawnSync('npx', ['vitest', 'run'], { stdio: 'inherit' }).status ?? 1;
  }
} finally {
  busy.kill('SIGKILL');
}
process.stderr.write(code === 0 ? `test:loaded: ${rounds} rounds passed\n` : 'test:loaded: a round failed\n');
process.exit(code);
