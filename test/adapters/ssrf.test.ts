import { describe, expect, it } from 'vitest';
import { blockedReason, isMetadataHostname, refusalOf, resolveChecked, type LookupFn } from '../../src/adapters/ssrf.js';
import { isVendorError } from '../../src/domain/errors.js';

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['169.254.169.254', 'cloud_metadata'],
    ['169.254.1.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['fd00:ec2::254', 'cloud_metadata'],
    ['fd00:ec2::1', 'unique_local'],
    ['fc00::1', 'unique_local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['::ffff:169.254.169.254', 'cloud_metadata'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:7f00:1::', 'loopback'],
    ['64:ff9b:1::a00:5', 'private'], // local-use NAT64 (RFC 8215) embedding 10.0.0.5
    ['::ffff:0:7f00:1', 'loopback'], // IPv4-translated (RFC 2765) 127.0.0.1
    ['192.88.99.1', 'reserved'], // the former 6to4 relay anycast
    ['ff02::1', 'multicast'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['example.com', 'not_an_ip'],
  ])('refuses %s as %s', (address, reason) => {
    expect(blockedReason(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'lets the public address %s through',
    (address) => {
      expect(blockedReason(address)).toBeNull();
    },
  );
});

describe('resolveChecked', () => {
  const lookup: LookupFn = async (host) =>
    host === 'mixed.test'
      ? [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.5', family: 4 },
        ]
      : [{ address: '93.184.216.34', family: 4 }];
  const signal = new AbortController().signal;

  it('refuses a name when any of its addresses is private', async () => {
    const error: unknown = await resolveChecked('mixed.test', { lookup, allowPrivate: false, signal }).catch((e: unknown) => e);
    expect(isVendorError(error) && error.kind === 'bad_request' && error.detail).toBe('ssrf_refused:private');
  });

  it('pins the first address of a public name', async () => {
    await expect(resolveChecked('public.test', { lookup, allowPrivate: false, signal })).resolves.toEqual({ address: '93.184.216.34', family: 4 });
  });

  it('checks IP literals without resolving them', async () => {
    const never: LookupFn = () => Promise.reject(new Error('must not resolve'));
    const error: unknown = await resolveChecked('[::1]', { lookup: never, allowPrivate: false, signal }).catch((e: unknown) => e);
    expect(isVendorError(error) && error.detail).toBe('ssrf_refused:loopback');
    await expect(resolveChecked('[::1]', { lookup: never, allowPrivate: true, signal })).resolves.toEqual({ address: '::1', family: 6 });
  });
});

describe('resolveChecked and a slow resolver', () => {
  it('gives up when the attempt signal fires, as a timeout', async () => {
    const stuck: LookupFn = () => new Promise(() => undefined);
    const timeout = new AbortController(); // the attempt's timeout, fired by hand: no real wait
    const pending = resolveChecked('slow.test', { lookup: stuck, allowPrivate: false, signal: timeout.signal }).catch((e: unknown) => e);
    timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    const error: unknown = await pending;
    expect(isVendorError(error) && [error.vendor, error.kind, error.detail]).toEqual(['crawler', 'timeout', 'attempt timed out']);
  });
});

describe('cloud metadata services, refused even with CRAWL_ALLOW_PRIVATE_NETWORKS=true', () => {
  const METADATA_ADDRESSES = [
    '169.254.169.254',
    '169.254.170.2',
    '169.254.170.23',
    '169.254.0.23',
    '100.100.100.200',
    '192.0.0.192',
    '168.63.129.16',
    'fd00:ec2::254',
    'fd00:ec2::23',
    'fd20:ce::254',
    '[fd00:ec2::254]',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:aa02', // NAT64 of 169.254.170.2
    '::ffff:100.100.100.200',
  ];
  const signal = new AbortController().signal;

  it.each(METADATA_ADDRESSES)('refuses the address %s as cloud_metadata, private networks allowed or not', (address) => {
    expect(refusalOf(address, true)).toBe('cloud_metadata');
    expect(refusalOf(address, false)).toBe('cloud_metadata');
  });

  it.each(['127.0.0.1', '10.0.0.1', '169.254.1.1', '100.64.0.1', 'fd00:ec2::1', '::1'])('allows the private address %s only when private networks are allowed', (address) => {
    expect(refusalOf(address, true)).toBeNull();
    expect(refusalOf(address, false)).not.toBeNull();
  });

  it.each(['metadata.google.internal', 'METADATA.GOOGLE.INTERNAL.', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'metadata.tencentyun.com'])(
    'refuses the name %s before any lookup',
    async (name) => {
      expect(isMetadataHostname(name)).toBe(true);
      const never: LookupFn = () => Promise.reject(new Error('must not resolve'));
      const error: unknown = await resolveChecked(name, { lookup: never, allowPrivate: true, signal }).catch((e: unknown) => e);
      expect(isVendorError(error) && [error.kind, error.detail, error.retryable]).toEqual(['bad_request', 'ssrf_refused:cloud_metadata', false]);
    },
  );

  it('refuses a name that resolves to a metadata address, and any of its addresses counts', async () => {
    const lookup: LookupFn = async (host) =>
      host === 'ecs.test' ? [{ address: '10.0.0.5', family: 4 }, { address: '169.254.170.2', family: 4 }] : [{ address: 'fd00:ec2::254', family: 6 }];
    for (const name of ['ecs.test', 'imds6.test']) {
      const error: unknown = await resolveChecked(name, { lookup, allowPrivate: true, signal }).catch((e: unknown) => e);
      expect(isVendorError(error) && error.detail, name).toBe('ssrf_refused:cloud_metadata');
    }
  });

  it('lets the other names through with private networks allowed', async () => {
    const lookup: LookupFn = async () => [{ address: '10.0.0.5', family: 4 }];
    await expect(resolveChecked('metadata-shop.example', { lookup, allowPrivate: true, signal })).resolves.toEqual({ address: '10.0.0.5', family: 4 });
  });
});
