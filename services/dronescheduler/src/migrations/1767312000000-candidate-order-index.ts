import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

// Table and index objects, not names: by name TypeORM reads the catalog first, and the T-SQL test renders this DDL
// from a DataSource that never connects.
const drones = new Table({ name: 'drones' });
const byStatusAndPayload = new TableIndex({ name: 'IX_drones_status_payload', columnNames: ['status', 'max_payload_kg'] });
const inCandidateOrder = new TableIndex({ name: 'IX_drones_status_payload_id', columnNames: ['status', 'max_payload_kg', 'id'] });

/**
 * The candidate search orders by (max_payload_kg, id). Without id in the index the engine had to evaluate the
 * overlap check for every available drone and sort them all before taking the first few, a cost that grows with
 * the fleet (measured in docs/performance.md). With the full order in the index the scan stops once it has found
 * enough free drones.
 */
export class CandidateOrderIndex1767312000000 implements MigrationInterface {
  name = 'CandidateOrderIndex1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(drones, inCandidateOrder);
    await queryRunner.dropIndex(drones, byStatusAndPayload);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(drones, byStatusAndPayload);
    await queryRunner.dropIndex(drones, inCandidateOrder);
  }
}
