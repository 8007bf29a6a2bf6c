import { hash, pick } from '../random.js';
import { reply, type VendorSim } from '../types.js';

const BAD_KEY = 'Invalid API Key or your account ran out of credits';

/** The documented sandbox addresses and their fixed answers. */
const SANDBOX: Record<string, [string, string]> = {
  'valid@example.com': ['valid', ''],
  'invalid@example.com': ['invalid', 'mailbox_not_found'],
  'catch_all@example.com': ['catch-all', ''],
  'unknown@example.com': ['unknown', 'mail_server_temporary_error'],
  'spamtrap@example.com': ['spamtrap', ''],
  'abuse@example.com': ['abuse', ''],
  'donotmail@example.com': ['do_not_mail', 'role_based'],
};

const MIX: [string, string][] = [
  ['valid', ''], ['valid', ''], ['valid', ''], ['valid', ''], ['valid', ''], ['valid', ''], ['valid', ''],
  ['invalid', 'mailbox_not_found'],
  ['catch-all', ''],
  ['unknown', 'greylisted'],
];

/**
 * ZeroBounce `GET /validate` (api_key in the query). An invalid key and exhausted credits give
 * the same `{"error": …}` body with HTTP 200, as the integrations report.
 */
export const zerobounceSim: VendorSim = {
  successStatus: 200,
  authorised: (req, key) => req.query.get('api_key') === key,
  ok(req, ctx) {
    if (req.method !== 'GET' || req.path !== '/validate') return reply(404, { error: 'Not Found' });
    const email = (req.query.get('email') ?? '').trim().toLowerCase();
    if (!email) return reply(200, { error: 'Missing parameter: email.' });
    if (!req.query.has('ip_address')) return reply(200, { error: 'Missing parameter: ip_address.' });
    const local = email.split('@')[0] ?? '';
    const [status, subStatus] = SANDBOX[email] ??
      (local.startsWith('invalid') ? ['invalid', 'mailbox_not_found'] : local.startsWith('catchall') ? ['catch-all', ''] : pick(MIX, hash(ctx.seed, 'zb', email)));
    const domain = email.split('@')[1] ?? '';
    return reply(200, {
      address: email,
      status,
      sub_status: subStatus,
      free_email: false,
      did_you_mean: null,
      account: local,
      domain,
      domain_age_days: '9692',
      smtp_provider: 'sim',
      mx_found: 'true',
      mx_record: `mx.${domain}`,
      firstname: null,
      lastname: null,
      gender: null,
      country: null,
      region: null,
      city: null,
      zipcode: null,
      processed_at: '2026-11-29 12:00:00.000',
    });
  },
  invalidKey: () => reply(200, { error: BAD_KEY }),
  quota: () => reply(200, { error: BAD_KEY }),
  /** ZeroBounce documents no Retry-After: sent only when the profile sets `retryAfterS` (the demo does). */
  rateLimited: (s) => reply(429, { error: 'Too many requests' }, s === undefined ? undefined : { 'retry-after': String(s) }),
  serverError: (status) => reply(status, { error: 'Internal server error' }),
  schemaMismatch: () => reply(200, { address: 'x@example.com', status: 'probably_fine', sub_status: '' }),
};
