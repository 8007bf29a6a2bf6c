/** The input errors are the domain's (src/domain/input.ts), so that the run recognises them. */
export { InputError, isInputError } from '../../domain/input.js';
