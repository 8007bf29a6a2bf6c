import type { TenantId, VendorName } from './vendor.js';

/** A company to enrich, as it enters a run. */
export interface Company {
  /** Integer id, unique per tenant. */
  companyId: number;
  tenantId: TenantId;
  name: string | null;
  /** Bare host name such as `example.com` (no scheme, no path). */
  domain: string | null;
  /** Contacts the host system already holds; when non-empty, contact discovery is skipped. */
  knownContacts?: Contact[];
  /**
   * Addresses already stored for the company (people's and the site's, lower-case), verified or
   * deferred before: not new, so ZeroBounce is not asked again (`verify-deferred` retries deferred ones).
   */
  knownEmails?: string[];
}

/** ZeroBounce statuses plus `unknown` for deferred and `unverified` for never attempted. */
export type EmailStatus =
  | 'valid'
  | 'invalid'
  | 'catch-all'
  | 'unknown'
  | 'spamtrap'
  | 'abuse'
  | 'do_not_mail'
  | 'unverified';

/** Where a value came from: a vendor, the deterministic fallback, the input or the crawl. */
export type SourceName = VendorName | 'input' | 'deterministic';

/** A person at the company. */
export interface Contact {
  fullName: string;
  firstName?: string | null;
  lastName?: string | null;
  title: string | null;
  email: string | null;
  linkedinUrl: string | null;
  source: SourceName;
}

/** An email address found for the company and its verification outcome. */
export interface EmailRecord {
  email: string;
  status: EmailStatus;
  subStatus?: string | null;
  /** Where the address was found: a contact source or the crawled site (`crawler`). */
  source: SourceName;
}

/** Facts about a company, structured by OpenAI or by the deterministic extraction. */
export interface CompanyFacts {
  name?: string | null;
  description?: string | null;
  industry?: string | null;
  employeeCount?: number | null;
  country?: string | null;
  city?: string | null;
  foundedYear?: number | null;
  website?: string | null;
  phone?: string | null;
  linkedinUrl?: string | null;
}

const EMAIL_ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** Whether `text` has the shape of an e-mail address (local@domain.tld, no spaces or separators). */
export function isEmailAddress(text: string): boolean {
  return EMAIL_ADDRESS.test(text);
}
