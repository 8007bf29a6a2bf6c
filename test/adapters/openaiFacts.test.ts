import { describe, expect, it } from 'vitest';
import { FactsSchema } from '../../src/adapters/openaiFacts.js';

describe('the facts schema', () => {
  it('drops one drifted field and keeps the rest of the answer', () => {
    const facts = FactsSchema.parse({ name: 'Acme', industry: 'Rockets', employeeCount: '51-200', foundedYear: '1999', phone: 331234, website: ' https://acme.test ' });
    expect(facts).toMatchObject({ name: 'Acme', industry: 'Rockets', employeeCount: null, foundedYear: 1999, phone: null, website: 'https://acme.test' });
  });

  it('still refuses an answer that is not an object', () => {
    expect(FactsSchema.safeParse(['Acme']).success).toBe(false);
    expect(FactsSchema.safeParse('Acme makes rockets').success).toBe(false);
  });
});
