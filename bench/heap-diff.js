// What grew between two heap snapshots of one run (BENCH_HEAP_SNAPSHOT writes them at 30, 50 and
// 70 % of a run): objects counted and sized by constructor (strings, numbers and code by kind),
// largest growth first, with the bytes per company done when told how many companies lie between.
// Usage: node --max-old-space-size=4096 bench/heap-diff.js <early.heapsnapshot> <late.heapsnapshot> [companies between] [rows (30)]
import { readFileSync } from 'node:fs';

const GROUPED = { string: '(string)', 'concatenated string': '(string)', 'sliced string': '(string)', number: '(heap number)' };

/** Count and self size of the snapshot's nodes, by `type|constructor`. */
function tally(path) {
  const snapshot = JSON.parse(readFileSync(path, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [width, typeAt, nameAt, sizeAt] = [fields.length, fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const { nodes, strings } = snapshot;
  const byKey = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name = GROUPED[type] ?? String(strings[nodes[i + nameAt]]).slice(0, 60);
    const key = `${type}|${name}`;
    const entry = byKey.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += nodes[i + sizeAt];
    byKey.set(key, entry);
  }
  return byKey;
}

const [earlyPath, latePath, between, rows = '30'] = process.argv.slice(2);
if (!earlyPath || !latePath) {
  console.error('usage: node bench/heap-diff.js <early.heapsnapshot> <late.heapsnapshot> [companies between] [rows]');
  process.exit(2);
}
const [early, late] = [tally(earlyPath), tally(latePath)];
const diff = [];
for (const key of new Set([...early.keys(), ...late.keys()])) {
  const a = early.get(key) ?? { count: 0, bytes: 0 };
  const b = late.get(key) ?? { count: 0, bytes: 0 };
  diff.push({ key, count: b.count - a.count, bytes: b.bytes - a.bytes, lateCount: b.count, lateBytes: b.bytes });
}
diff.sort((x, y) => y.bytes - x.bytes);
const companies = Number(between ?? 0);
const total = diff.reduce((sum, d) => sum + d.bytes, 0);
const perCompany = (bytes) => (companies > 0 ? (bytes / companies).toFixed(2) : '–');
console.log(`self size ${total >= 0 ? '+' : ''}${total} bytes${companies > 0 ? ` over ${companies} companies: ${perCompany(total)} B per company` : ''}`);
console.log('| type | constructor | Δ count | Δ bytes | B per company | count (late) | bytes (late) |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const d of diff.slice(0, Number(rows))) {
  const [type, name] = d.key.split('|');
  console.log(`| ${type} | ${name} | ${d.count} | ${d.bytes} | ${perCompany(d.bytes)} | ${d.lateCount} | ${d.lateBytes} |`);
}
