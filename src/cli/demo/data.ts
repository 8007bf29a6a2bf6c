/**
 * The demo's companies: deterministic, about 100 per tenant, shaped so that every reason code of
 * the fallback chain shows up against the simulators (names and domain prefixes the simulator
 * recognises: `thin…` sites are thin, `missing…` sites answer 404, `stuck…` sites never answer).
 */

const WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Soylent', 'Hooli', 'Vandelay', 'Wonka', 'Gringotts', 'Oscorp', 'Nakatomi', 'Massive', 'Dunder', 'Prestige', 'Sterling', 'Pied'];
const KINDS = ['Analytics', 'Robotics', 'Logistics', 'Foods', 'Labs', 'Systems', 'Energy', 'Media', 'Health', 'Capital'];

/** CSV text of one tenant's demo input (header, rows, and one malformed row to show the skip). */
export function demoCsv(tenantId: number, count: number): string {
  const lines = ['company_id,name,domain'];
  for (let i = 1; i <= count; i++) {
    const name = `${WORDS[(i * 7 + tenantId) % WORDS.length]} ${KINDS[(i * 3 + tenantId) % KINDS.length]} ${tenantId}${String(i).padStart(3, '0')}`;
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    let domain = `${slug}.example`;
    if (i % 29 === 0) {
      lines.push(`${i},,`); // nothing to go on: DATA_EMPTY:no_domain_name
      continue;
    }
    if (i % 13 === 0) domain = ''; // a name without a site: CRAWL_THIN, search on the name
    else if (i % 11 === 0) domain = `missing-${slug}.example`; // 404: CRAWL_ERROR
    else if (i % 37 === 0) domain = `stuck-${slug}.example`; // never answers: DEADLINE_EXCEEDED
    else if (i % 7 === 0) domain = `thin-${slug}.example`; // CRAWL_THIN
    lines.push(`${i},"${name}",${domain}`);
    if (i === 42) lines.push('not-a-number,"Broken Row Ltd",broken.example'); // reported with its line and skipped
  }
  return `${lines.join('\n')}\n`;
}
