import { Column, Entity, PrimaryColumn } from 'typeorm';

export const DRONE_STATUSES = ['Available', 'Maintenance', 'Retired'] as const;
export type DroneStatus = (typeof DRONE_STATUSES)[number];

/** A drone of the fleet. Whether it is busy is not a flag here: it follows from its assignments' time windows. */
@Entity('drones')
export class Drone {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 64 }) model: string;
  @Column({ name: 'max_payload_kg', type: 'float' }) maxPayloadKg: number;
  /** Only Available drones get new assignments. */
  @Column({ type: 'varchar', length: 16 }) status: DroneStatus;
  @Column({ name: 'created_at' }) createdAt: Date;
}
