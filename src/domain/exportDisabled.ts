/**
 * Why a tenant's Odoo export was disabled for the rest of a run (DESIGN.md "Odoo export"), as the
 * export decides it, as enrichment_runs.odoo_export_disabled_reason stores it, and in words.
 */

/** Why a tenant's export was disabled for the rest of the run. */
export type DisableReason = 'unreachable' | 'missing_database' | 'login_refused' | 'circuit_open' | 'settings_incomplete' | 'odoo_error';

/** The disable decision, with a secret-free detail for the operator. */
export interface Disabled {
  reason: DisableReason;
  detail: string;
}

const DISABLE_REASON_TEXT: Record<DisableReason, string> = {
  unreachable: 'Odoo unreachable',
  missing_database: 'the Odoo database does not exist',
  login_refused: 'Odoo refused the login',
  circuit_open: "the tenant's odoo breaker is open",
  settings_incomplete: 'Odoo settings incomplete',
  odoo_error: 'Odoo answered the login with an error',
};

/**
 * The disable decision as `enrichment_runs.odoo_export_disabled_reason` stores it: the reason code,
 * then its detail (`settings_incomplete: missing ODOO_DB`).
 */
export function disabledReasonText(disabled: Disabled): string {
  return `${disabled.reason}: ${disabled.detail}`;
}

/**
 * What a stored disable reason ({@link disabledReasonText}) means, for the run summary and stderr:
 * `Odoo settings incomplete (missing ODOO_DB)`, `Odoo unreachable (network: ECONNREFUSED)`. Text
 * that is not in that form is shown as stored; null (not recorded) says so.
 */
export function explainDisabledReason(stored: string | null): string {
  if (stored === null || stored.trim() === '') return 'reason not recorded';
  const cut = stored.indexOf(': ');
  const code = cut < 0 ? stored : stored.slice(0, cut);
  const detail = cut < 0 ? '' : stored.slice(cut + 2);
  if (!Object.hasOwn(DISABLE_REASON_TEXT, code)) return stored;
  const text = DISABLE_REASON_TEXT[code as DisableReason];
  return detail === '' ? text : `${text} (${detail})`;
}
