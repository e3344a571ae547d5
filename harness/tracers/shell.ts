// The tracer drivers' and workloads' name for the project's one quoting helper
// (harness/shell-quote.ts); kept so their imports need not change.
export { shellQuote } from '../shell-quote.js';
