/** PostgreSQL adapter: one pool, migrations, the embedded server, the sink's writer, the run and breaker queries. */
export { openDatabase, type Database, type OpenDatabaseOptions } from './database.js';
export { migrate, loadMigrations, MIGRATIONS_DIR, type Migration, type MigrationResult } from './migrate.js';
export { startEmbeddedPostgres, freeLoopbackPort, type EmbeddedPostgres, type EmbeddedOptions } from './embedded.js';
export { createPgBatchWriter, isContentError, type BatchWriter, type BatchOutcome } from './writer.js';
export { createRunStore } from './runs.js';
export { aggregatePercentiles, finaliseRun, pruneSinkLedger, SINK_LEDGER_RETENTION_DAYS } from './finalise.js';
export { runReport, type RunReport } from './report.js';
export { lastOpenBreakerTransitions } from './breakers.js';
export { createDeferredContactsStore } from './contacts.js';
