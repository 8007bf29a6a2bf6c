/**
 * Seeded randomness for the simulator: a 32-bit string hash and the mulberry32 generator.
 * Generated data derives from hash(seed, input) so that it does not depend on call order;
 * fault probabilities draw from a per-vendor generator seeded from the run's seed.
 */

/** FNV-1a 32-bit hash of the parts joined with `|`. */
export function hash(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A uniform generator in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks an element by a hash value. */
export function pick<T>(items: readonly T[], h: number): T {
  return items[h % items.length] as T;
}

const FIRST = ['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya'];
const LAST = ['Lovelace', 'Rossi', 'Bianchi', 'Ivanov', 'Garcia', 'Haddad', 'Hopper', 'Tanaka', 'Moreau', 'Berg', 'Mensah', 'Fischer', 'Silva', 'Khan', 'Novak', 'Patel'];
const TITLES = ['CEO', 'CTO', 'Head of Sales', 'VP Marketing', 'Operations Manager', 'Founder', 'Account Executive', 'Head of Partnerships'];
export const INDUSTRIES = ['Software', 'Logistics', 'Manufacturing', 'Healthcare', 'Retail', 'Financial Services', 'Energy', 'Education'];
export const CITIES: readonly [string, string][] = [
  ['Berlin', 'Germany'],
  ['Lyon', 'France'],
  ['Milan', 'Italy'],
  ['Austin', 'United States'],
  ['Toronto', 'Canada'],
  ['Porto', 'Portugal'],
];

/** A deterministic person for (seed, company domain, index). */
export function person(seed: number, domain: string, index: number): { first: string; last: string; title: string } {
  const h = hash(seed, domain, index);
  return { first: pick(FIRST, h), last: pick(LAST, h >>> 8), title: pick(TITLES, h >>> 16) };
}

/** "acme-tools.example" → "Acme Tools". */
export function companyNameOf(domain: string): string {
  const label = domain.replace(/^www\./, '').split('.')[0] ?? domain;
  return label
    .split(/[-_]/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}
