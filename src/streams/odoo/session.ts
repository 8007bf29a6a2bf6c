import { isCircuitOpenError, isVendorError } from '../../domain/errors.js';
import { odooFaultOf, type OdooClientPort, type OdooFault } from '../../domain/odoo.js';
import type { TenantId } from '../../domain/vendor.js';
import type { Disabled } from '../../domain/exportDisabled.js';

export { disabledReasonText, explainDisabledReason, type Disabled, type DisableReason } from '../../domain/exportDisabled.js';
import type { GuardedCaller } from '../guard.types.js';

/**
 * One tenant's connection to its Odoo for one run: login once, every call through the guarded
 * caller (per-tenant `odoo` breaker, per-attempt timeout, retryWithBackoff), and the decision to
 * disable the export. Once disabled, the session makes no further call.
 */

/** An object call's result: a value, a fault the company can survive, or the tenant disabled. */
export type CallResult<T> = { ok: true; value: T } | { ok: false; fault: OdooFault } | { ok: false; disabled: Disabled };

function describe(error: unknown): string {
  if (isCircuitOpenError(error)) return 'odoo breaker open';
  if (isVendorError(error)) return `${error.kind}${error.status === undefined ? '' : ` ${error.status}`}${error.detail ? `: ${error.detail}` : ''}`;
  return 'unexpected error';
}

/** The disable decision for a failed authenticate (every failure of the login disables). */
function triageLogin(error: unknown): Disabled {
  const fault = odooFaultOf(error);
  const detail = describe(error);
  if (fault?.category === 'missing_database') return { reason: 'missing_database', detail };
  if (fault?.category === 'access_denied' || (isVendorError(error) && error.kind === 'auth')) return { reason: 'login_refused', detail };
  if (fault) return { reason: 'odoo_error', detail };
  if (isCircuitOpenError(error)) return { reason: 'circuit_open', detail };
  return { reason: 'unreachable', detail };
}

/** Options of an {@link OdooSession}. */
export interface OdooSessionInit {
  tenantId: TenantId;
  client: OdooClientPort;
  guard: GuardedCaller;
  /** Run cancellation: stops retries at once. */
  signal?: AbortSignal;
  /** Told once, when the session disables itself. */
  onDisabled?: (disabled: Disabled) => void;
}

/** execute_kw on the session's uid. */
export type ExecuteKw = (model: string, method: string, args: unknown[], kwargs: Record<string, unknown> | undefined, signal: AbortSignal) => Promise<unknown>;

/** Options of {@link OdooSession.call}. */
export interface CallOptions {
  /**
   * Runs before every attempt after the first (the guard retries timeouts, resets and 5xx). A
   * failed attempt may still have been carried out by Odoo (its answer lost): for a call that must
   * not happen twice, look for its effect here and return the call's result to stop, or undefined
   * to send the call again.
   */
  beforeRepeat?: (executeKw: ExecuteKw, signal: AbortSignal) => Promise<unknown>;
}

/** See the module comment. */
export class OdooSession {
  private uidValue: number | null = null;
  private disabledValue: Disabled | null = null;
  /**
   * Strippable fields this Odoo refused as unknown (`Invalid field 'x'`): left out of later writes
   * from the start, instead of a faulting write and a retry per partner.
   */
  readonly unknownFields = new Set<string>();

  constructor(private readonly init: OdooSessionInit) {}

  /** The disable decision, or null while the export is enabled. */
  get disabled(): Disabled | null {
    return this.disabledValue;
  }

  /** Disables the session (idempotent: the first decision stands). */
  disable(disabled: Disabled): Disabled {
    if (!this.disabledValue) {
      this.disabledValue = disabled;
      this.init.onDisabled?.(disabled);
    }
    return this.disabledValue;
  }

  private guarded<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { guard, tenantId, signal } = this.init;
    return guard.call(tenantId, 'odoo', fn, signal ? { signal } : {});
  }

  /** A run cancellation is not Odoo's fault: it stops this call without disabling the tenant. */
  private cancelled(): Disabled | null {
    return this.init.signal?.aborted ? { reason: 'unreachable', detail: 'run cancelled' } : null;
  }

  /** Logs in once per run; the uid, or why the export cannot go on (disabled or cancelled). */
  async login(): Promise<{ uid: number } | { disabled: Disabled }> {
    if (this.disabledValue) return { disabled: this.disabledValue };
    if (this.uidValue !== null) return { uid: this.uidValue };
    try {
      this.uidValue = await this.guarded((signal) => this.init.client.authenticate(signal));
      return { uid: this.uidValue };
    } catch (error) {
      return { disabled: this.cancelled() ?? this.disable(triageLogin(error)) };
    }
  }

  /**
   * execute_kw on `model`. Faults a company can survive (validation, other, access_error,
   * missing_record) come back as `fault`; a missing database, a refused key, an open breaker or a
   * transport failure (after the guard's retries) disables the tenant.
   */
  async call<T>(model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>, options: CallOptions = {}): Promise<CallResult<T>> {
    const login = await this.login();
    if ('disabled' in login) return { ok: false, disabled: login.disabled };
    const { uid } = login;
    const run: ExecuteKw = (m, method2, args2, kwargs2, signal) => this.init.client.executeKw(uid, m, method2, args2, kwargs2, signal);
    let attempts = 0;
    try {
      const value = await this.guarded(async (signal) => {
        attempts += 1;
        if (attempts > 1 && options.beforeRepeat) {
          const done = await options.beforeRepeat(run, signal);
          if (done !== undefined) return done;
        }
        return run(model, method, args, kwargs, signal);
      });
      return { ok: true, value: value as T };
    } catch (error) {
      const fault = odooFaultOf(error);
      if (fault && fault.category !== 'missing_database' && fault.category !== 'access_denied') return { ok: false, fault };
      return { ok: false, disabled: this.cancelled() ?? this.disable(triageLogin(error)) };
    }
  }
}
