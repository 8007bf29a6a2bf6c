import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { VendorError } from '../domain/errors.js';
import { classifyAborted, classifyThrown } from './http/classify.js';

/**
 * The crawler's SSRF guard: a company domain comes from tenant input, so the crawler must not be
 * turned against the machine it runs on or its network. A host is resolved once, every address it
 * resolves to is checked, and the connection is then pinned to the checked address (see
 * crawler.ts) so that a second, different DNS answer (rebinding) cannot slip past the check.
 */

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Resolves a host name to all its addresses; injectable so tests can fake DNS. */
export type LookupFn = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver (getaddrinfo through node:dns), every address, in resolver order. */
export const systemLookup: LookupFn = async (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

interface Range {
  bytes: number[];
  bits: number;
  reason: string;
}

function v4(text: string): number[] | null {
  if (isIP(text) !== 4) return null;
  return text.split('.').map(Number);
}

function v6(text: string): number[] | null {
  let bare = text.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return null;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4(dotted[1]) ?? [];
    bare = `${bare.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = bare.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const words = right === undefined ? l : [...l, ...Array<number>(Math.max(0, 8 - l.length - r.length)).fill(0), ...r];
  if (words.length !== 8) return null;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function range(cidr: string, reason: string): Range {
  const [ip = '', bits = '0'] = cidr.split('/');
  const bytes = v4(ip) ?? v6(ip);
  if (!bytes) throw new RangeError(`bad CIDR ${cidr}`);
  return { bytes, bits: Number(bits), reason };
}

function inRange(bytes: number[], r: Range): boolean {
  if (bytes.length !== r.bytes.length) return false;
  for (let bit = 0; bit < r.bits; bit++) {
    const mask = 0x80 >> bit % 8;
    const i = Math.floor(bit / 8);
    if (((bytes[i] ?? 0) & mask) !== ((r.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * Cloud instance-metadata services, which hand out the machine's credentials to whoever asks from
 * inside it. Refused even with CRAWL_ALLOW_PRIVATE_NETWORKS: no site a company lists is one.
 */
const METADATA_V4: Range[] = [
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean, Hetzner, IBM…
  '169.254.170.2', // AWS ECS task metadata and credentials
  '169.254.170.23', // AWS EKS Pod Identity agent
  '169.254.0.23', // Tencent Cloud
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (classic)
  '168.63.129.16', // Azure's host endpoint (WireServer), a public-looking address
].map((address) => range(`${address}/32`, 'cloud_metadata'));

const METADATA_V6: Range[] = [
  'fd00:ec2::254', // AWS IMDS over IPv6
  'fd00:ec2::23', // AWS EKS Pod Identity agent over IPv6
  'fd20:ce::254', // GCP over IPv6
].map((address) => range(`${address}/128`, 'cloud_metadata'));

/** Host names of metadata services (and the short names their resolvers answer), refused before any lookup. */
const METADATA_HOSTNAMES: ReadonlySet<string> = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);

/** Whether `hostname` names a cloud metadata service (case and a trailing dot ignored). */
export function isMetadataHostname(hostname: string): boolean {
  return METADATA_HOSTNAMES.has(hostname.toLowerCase().replace(/\.$/, ''));
}

const V4_RANGES: Range[] = [
  ...METADATA_V4,
  range('0.0.0.0/8', 'unspecified'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'cgnat'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link_local'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'reserved'),
  range('192.0.2.0/24', 'reserved'),
  range('192.88.99.0/24', 'reserved'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'reserved'),
  range('198.51.100.0/24', 'reserved'),
  range('203.0.113.0/24', 'reserved'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
];

const V6_RANGES: Range[] = [
  ...METADATA_V6,
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('::/96', 'reserved'),
  range('100::/64', 'reserved'),
  range('2001::/32', 'reserved'),
  range('2001:db8::/32', 'reserved'),
  range('fc00::/7', 'unique_local'),
  range('fe80::/10', 'link_local'),
  range('fec0::/10', 'private'),
  range('ff00::/8', 'multicast'),
];

/** IPv6 prefixes that embed an IPv4 address (mapped, NAT64, 6to4) and where it sits. */
const EMBEDDING: { range: Range; at: number }[] = [
  { range: range('::ffff:0:0/96', 'ipv4_mapped'), at: 12 },
  { range: range('::ffff:0:0:0/96', 'ipv4_translated'), at: 12 },
  { range: range('64:ff9b::/96', 'nat64'), at: 12 },
  { range: range('64:ff9b:1::/48', 'nat64_local'), at: 12 },
  { range: range('2002::/16', '6to4'), at: 2 },
];

/**
 * Why an address must not be crawled, or null when it is a public unicast address.
 * IPv6 addresses that embed an IPv4 address are judged by the embedded address.
 *
 * @returns a reason such as `loopback`, `private`, `link_local`, `cloud_metadata`, `cgnat`,
 *   `unique_local`, `unspecified`, `multicast`, `reserved`, or `not_an_ip`
 */
export function blockedReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '');
  const four = v4(bare);
  if (four) return V4_RANGES.find((r) => inRange(four, r))?.reason ?? null;
  const six = v6(bare);
  if (!six) return 'not_an_ip';
  for (const { range: r, at } of EMBEDDING) {
    if (inRange(six, r)) return blockedReason(six.slice(at, at + 4).join('.'));
  }
  return V6_RANGES.find((r) => inRange(six, r))?.reason ?? null;
}

/**
 * Why an address must not be crawled under the setting: with private networks allowed, only a
 * cloud metadata address (in any of its forms) is refused.
 */
export function refusalOf(address: string, allowPrivate: boolean): string | null {
  const reason = blockedReason(address);
  return allowPrivate && reason !== 'cloud_metadata' ? null : reason;
}

/** Options of {@link resolveChecked}. */
export interface GuardOptions {
  lookup: LookupFn;
  /**
   * CRAWL_ALLOW_PRIVATE_NETWORKS: allow loopback, private, link-local… addresses (resolution and
   * pinning still happen); cloud metadata services stay refused, by name and by address.
   */
  allowPrivate: boolean;
  signal: AbortSignal;
}

/**
 * Resolves a URL host name (or takes an IP literal) and checks every address.
 *
 * @returns the address to pin the connection to (the first one resolved)
 * @throws VendorError `crawler`/`bad_request` with detail `ssrf_refused:<reason>` when the name is
 *   a metadata service's or any address is refused (see {@link refusalOf}); `network` when the name does not resolve; `timeout` when the signal fires first
 */
export async function resolveChecked(hostname: string, options: GuardOptions): Promise<ResolvedAddress> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isMetadataHostname(host)) throw new VendorError({ vendor: 'crawler', kind: 'bad_request', detail: 'ssrf_refused:cloud_metadata' });
  let addresses: readonly ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    // dns.lookup cannot be cancelled: race it against the signal so a slow resolver cannot
    // outlive the attempt.
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(options.signal.reason);
      options.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      options.signal.throwIfAborted();
      addresses = await Promise.race([options.lookup(host), aborted]);
    } catch (error) {
      throw options.signal.aborted ? classifyAborted('crawler', options.signal.reason) : classifyThrown('crawler', error);
    } finally {
      options.signal.removeEventListener('abort', onAbort);
      aborted.catch(() => undefined);
    }
  }
  const first = addresses[0];
  if (!first) throw new VendorError({ vendor: 'crawler', kind: 'network', detail: 'ENOTFOUND' });
  for (const { address } of addresses) {
    const reason = refusalOf(address, options.allowPrivate);
    if (reason) throw new VendorError({ vendor: 'crawler', kind: 'bad_request', detail: `ssrf_refused:${reason}` });
  }
  return first;
}
