import type { PackageSize } from '@dronedelivery/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export const ASSIGNMENT_STATUSES = ['Assigned', 'Released', 'Completed'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

/**
 * One row per delivery (the primary key is the delivery id, which makes assignment idempotent even when two
 * requests race). Only rows in status Assigned occupy their drone for [pickupTime, deadline).
 */
@Entity('assignments')
export class Assignment {
  @PrimaryColumn({ name: 'delivery_id', type: 'varchar', length: 64 }) deliveryId: string;
  @Column({ name: 'drone_id', type: 'varchar', length: 64 }) droneId: string;
  @Column({ name: 'owner_id', type: 'varchar', length: 64 }) ownerId: string;
  @Column({ name: 'pickup_time' }) pickupTime: Date;
  @Column() deadline: Date;
  /** deadline - pickupTime, stored so utilization sums it with portable SQL (no DATEDIFF vs EXTRACT). */
  @Column({ name: 'window_seconds', type: 'int' }) windowSeconds: number;
  @Column({ name: 'package_weight_kg', type: 'float' }) packageWeightKg: number;
  @Column({ name: 'package_size', type: 'varchar', length: 8 }) packageSize: PackageSize;
  @Column() expedited: boolean;
  @Column({ type: 'varchar', length: 16 }) status: AssignmentStatus;
  @Column({ name: 'created_at' }) createdAt: Date;
  @Column({ name: 'updated_at' }) updatedAt: Date;
  @Column({ name: 'released_at', type: Date, nullable: true }) releasedAt: Date | null;
  @Column({ name: 'completed_at', type: Date, nullable: true }) completedAt: Date | null;
}
