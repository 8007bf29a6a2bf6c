import type { Config } from '../../config/config.js';
import type { OdooTarget } from '../../domain/odoo.js';

/**
 * Which Odoo a tenant exports to. A tenant row with an `odoo_url` supplies every setting (URL,
 * database, login, and the NAME of the variable holding its key, read with `config.secret`);
 * otherwise the ODOO_* variables do. Settings are never mixed across the two sources.
 */

/** The Odoo columns of a `tenants` row (persistence, issue 4). */
export interface TenantOdooSettings {
  odooUrl: string | null;
  odooDb: string | null;
  odooLogin: string | null;
  /** Name of the environment variable that holds the API key (never the key). */
  odooKeyEnv: string | null;
}

/** The outcome of {@link resolveOdooTarget}. */
export type OdooTargetResolution =
  | { kind: 'target'; source: 'tenant' | 'env'; target: OdooTarget; targetKey: string }
  | { kind: 'none' }
  | { kind: 'incomplete'; source: 'tenant' | 'env'; missing: string[] };

/**
 * Identifies a target without secrets: URL without credentials, query or trailing slash, `|`, database.
 * Partner ids are only meaningful within one target.
 */
export function targetKeyOf(url: string, db: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}|${db}`;
  } catch {
    return `${url}|${db}`;
  }
}

const blank = (value: string | null | undefined): value is null | undefined | '' => value === null || value === undefined || value.trim() === '';

/**
 * The variable `tenants.odoo_key_env` names, or why it cannot name the tenant's key. The value is
 * echoed only when it is a configuration variable's name (a known, harmless word): any other
 * unusable value is not repeated, as the reason reaches logs and
 * `enrichment_runs.odoo_export_disabled_reason`.
 */
function keyEnvOf(keyEnv: string | null, config: Pick<Config, 'keyVariableProblem'>): { name: string } | { problem: string } {
  if (blank(keyEnv)) return { problem: 'tenants.odoo_key_env' };
  const name = keyEnv.trim();
  const problem = config.keyVariableProblem(name);
  return problem === null ? { name } : { problem: `tenants.odoo_key_env (${problem})` };
}

/**
 * The tenant's Odoo target: `none` when no URL is set anywhere (the export is skipped),
 * `incomplete` when a URL is set but the database, login or key is missing (listed by variable or
 * column name, never by value) — or when `odoo_key_env` is not a variable name, names one of the
 * configuration's own variables (a tenant must not receive OPENAI_API_KEY or DATABASE_URL) or a
 * variable without ODOO_KEY_ENV_PREFIX (nor AWS_SECRET_ACCESS_KEY or PGPASSWORD). The export is
 * then disabled with reason `settings_incomplete` and the run goes on.
 */
export function resolveOdooTarget(tenant: TenantOdooSettings | null, config: Pick<Config, 'odoo' | 'secret' | 'keyVariableProblem'>): OdooTargetResolution {
  if (tenant && !blank(tenant.odooUrl)) {
    const keyEnv = keyEnvOf(tenant.odooKeyEnv, config);
    const apiKey = 'name' in keyEnv ? config.secret(keyEnv.name) : null;
    const missing = [
      ...(blank(tenant.odooDb) ? ['tenants.odoo_db'] : []),
      ...(blank(tenant.odooLogin) ? ['tenants.odoo_login'] : []),
      // Never the name itself: an operator may have pasted the key into odoo_key_env, and a 40-hex
      // Odoo key can look like a variable name. The detail reaches logs and the database.
      ...('problem' in keyEnv ? [keyEnv.problem] : apiKey === null ? ['tenants.odoo_key_env (names a variable that is not set)'] : []),
    ];
    if (missing.length > 0 || blank(tenant.odooDb) || blank(tenant.odooLogin) || apiKey === null) return { kind: 'incomplete', source: 'tenant', missing };
    const target = { url: tenant.odooUrl.trim(), db: tenant.odooDb.trim(), login: tenant.odooLogin.trim(), apiKey };
    return { kind: 'target', source: 'tenant', target, targetKey: targetKeyOf(target.url, target.db) };
  }
  const { url, db, username, password } = config.odoo;
  if (blank(url)) return { kind: 'none' };
  const missing = [...(blank(db) ? ['ODOO_DB'] : []), ...(blank(username) ? ['ODOO_USERNAME'] : []), ...(blank(password) ? ['ODOO_PASSWORD'] : [])];
  if (missing.length > 0 || blank(db) || blank(username) || blank(password)) return { kind: 'incomplete', source: 'env', missing };
  const target = { url: url.trim(), db: db.trim(), login: username.trim(), apiKey: password };
  return { kind: 'target', source: 'env', target, targetKey: targetKeyOf(target.url, target.db) };
}
