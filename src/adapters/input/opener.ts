import type { CompanyInput, InputCompany, InputOpener, MalformedRow } from '../../domain/input.js';
import { openInput, type InputRecord } from '../input.js';

/** The companies of `records`, `first` included; each malformed row is handed to `onMalformed` and skipped. */
async function* companiesOf(first: IteratorResult<InputRecord>, records: AsyncGenerator<InputRecord>, onMalformed: (row: MalformedRow) => void): AsyncGenerator<InputCompany> {
  const report = (record: InputRecord): InputCompany | null => {
    if ('company' in record) return record;
    onMalformed(record.malformed);
    return null;
  };
  try {
    if (first.done) return;
    const company = report(first.value);
    if (company) yield company;
    for await (const record of records) {
      const next = report(record);
      if (next) yield next;
    }
  } finally {
    await records.return(undefined);
  }
}

/**
 * The {@link InputOpener} port over {@link openInput}: the input is opened once and its head read
 * before the caller creates anything, so that an input that cannot be read at all leaves no run
 * behind; the companies then come from the same open stream.
 */
export function createInputOpener(): InputOpener {
  return {
    async open(path, options): Promise<CompanyInput | null> {
      const input = await openInput(path, { tenantId: options.tenantId, ...(options.signal ? { signal: options.signal } : {}), ...(options.format ? { format: options.format } : {}) }).catch((error: unknown) => {
        if (options.signal?.aborted) return null;
        throw error;
      });
      if (input === null) return null;
      let first: IteratorResult<InputRecord>;
      try {
        first = await input.records.next();
      } catch (error) {
        input.close();
        if (options.signal?.aborted) return null;
        throw error;
      }
      if (options.signal?.aborted) {
        input.close();
        return null;
      }
      return { kind: input.kind, path: input.path, format: input.format, companies: companiesOf(first, input.records, options.onMalformed ?? (() => undefined)), close: input.close };
    },
  };
}
