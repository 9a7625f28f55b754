import { type Migration, type MigrationProvider } from 'kysely';
import { type StoreDialect } from '../db';
import { initialSchema } from './0001_initial';
import { deploysSchema } from './0002_deploys';
import { environmentsSchema } from './0003_environments';
import { policySchema } from './0004_policy';
import { oncallSchema } from './0006_oncall';
import { incidentsSchema } from './0007_incidents';
import { drillsSchema } from './0008_drills';
import { ticketsSchema } from './0009_tickets';

/**
 * Every migration, in order of their names. They live in code, not in a folder the Migrator scans, so the
 * same set runs from ts source, compiled dist and a bundle. Names never change once released; a new one sorts
 * after the last. Migrations take the dialect for the few types that differ (identity columns, collation).
 */
export function storeMigrations(dialect: StoreDialect): Record<string, Migration> {
  return {
    '0001_initial': initialSchema(dialect),
    '0002_deploys': deploysSchema(dialect),
    '0003_environments': environmentsSchema(dialect),
    '0004_policy': policySchema(dialect),
    '0006_oncall': oncallSchema(dialect),
    '0007_incidents': incidentsSchema(dialect),
    '0008_drills': drillsSchema(dialect),
    '0009_tickets': ticketsSchema(dialect),
  };
}

export class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}
