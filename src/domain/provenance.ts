import type { SourceName } from './company.js';
import type { StepName } from './reasons.js';

/** Where one written field came from: which step and source supplied it, and when (ISO 8601). */
export interface ProvenanceEntry {
  /** Dotted path of the field, e.g. `facts.industry`, `contacts[0].email`, `emails.a@b.com.status`. */
  field: string;
  step: StepName;
  source: SourceName;
  at: string;
  /** The field came from a stored paid answer (VENDOR_ANSWER_TTL_DAYS), fetched then (ISO 8601), not bought again. */
  storedAnswer?: { fetchedAt: string };
}
