import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/**
 * Column types differ per engine only where the engines differ: an instant is datetime2 (UTC, set by the app) on
 * SQL Server and timestamptz on PostgreSQL; a boolean is bit vs boolean (TypeORM's own mapping). Everything else
 * is the shared subset, so this one migration serves both.
 */
export function portableTypes(queryRunner: QueryRunner): { instant: string; boolean: string } {
  const driver = queryRunner.connection.driver;
  return {
    instant: driver.options.type === 'mssql' ? 'datetime2' : 'timestamptz',
    boolean: driver.normalizeType({ type: Boolean }),
  };
}

export class CreateFleetAndAssignments1767225600000 implements MigrationInterface {
  name = 'CreateFleetAndAssignments1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { instant, boolean } = portableTypes(queryRunner);
    // Indices and checks go inside createTable: it emits them without reading the catalog first, so the T-SQL
    // test can capture this DDL from a DataSource that never connects.
    await queryRunner.createTable(
      new Table({
        name: 'drones',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'model', type: 'varchar', length: '64' },
          { name: 'max_payload_kg', type: 'float' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'created_at', type: instant },
        ],
        checks: [
          { name: 'CK_drones_status', expression: "status IN ('Available', 'Maintenance', 'Retired')" },
          { name: 'CK_drones_max_payload', expression: 'max_payload_kg > 0' },
        ],
        // Candidate search: available drones by payload, smallest sufficient first.
        indices: [{ name: 'IX_drones_status_payload', columnNames: ['status', 'max_payload_kg'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'assignments',
        columns: [
          { name: 'delivery_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'drone_id', type: 'varchar', length: '64' },
          { name: 'owner_id', type: 'varchar', length: '64' },
          { name: 'pickup_time', type: instant },
          { name: 'deadline', type: instant },
          { name: 'window_seconds', type: 'int' },
          { name: 'package_weight_kg', type: 'float' },
          { name: 'package_size', type: 'varchar', length: '8' },
          { name: 'expedited', type: boolean },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'created_at', type: instant },
          { name: 'updated_at', type: instant },
          { name: 'released_at', type: instant, isNullable: true },
          { name: 'completed_at', type: instant, isNullable: true },
        ],
        checks: [
          { name: 'CK_assignments_status', expression: "status IN ('Assigned', 'Released', 'Completed')" },
          { name: 'CK_assignments_window', expression: 'deadline > pickup_time' },
          { name: 'CK_assignments_weight', expression: 'package_weight_kg > 0' },
        ],
        foreignKeys: [
          { name: 'FK_assignments_drone', columnNames: ['drone_id'], referencedTableName: 'drones', referencedColumnNames: ['id'] },
        ],
        indices: [
          // The overlap check: a drone's active assignments by time.
          { name: 'IX_assignments_drone_status_pickup', columnNames: ['drone_id', 'status', 'pickup_time'] },
          // Utilization: an owner's assignments by month of pickup.
          { name: 'IX_assignments_owner_pickup', columnNames: ['owner_id', 'pickup_time'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Table objects, not names: dropping by name reads the catalog first. Indices and constraints go with the table.
    await queryRunner.dropTable(new Table({ name: 'assignments' }));
    await queryRunner.dropTable(new Table({ name: 'drones' }));
  }
}
