import type { DownstreamResponse } from '@dronedelivery/platform';
import { DownstreamApi } from './downstream-api';

/** PUT /api/dronedeliveries/{deliveryId}: assigns a drone, or re-plans an existing assignment. */
export interface DroneAssignmentRequest {
  ownerId: string;
  pickupTime: string;
  deadline: string;
  packageWeight: number;
  packageSize: string;
  expedited: boolean;
}

export interface DroneAssigned {
  droneId: string;
}

/** The part of an assignment the saga reads back to re-plan it. */
export interface DroneAssignment {
  ownerId: string;
  packageWeight: number;
  packageSize: string;
  expedited: boolean;
}

/** The dronescheduler's routes the saga calls. Answers come back as they are; the saga classifies them. */
export class DroneSchedulerApi extends DownstreamApi {
  private readonly batchedAssignments = this.batched<DroneAssignmentRequest, DroneAssigned>('/api/dronedeliveries/batch');

  /** Through POST /api/dronedeliveries/batch when batching is on: the same answer as the PUT, fewer requests. */
  assign(deliveryId: string, body: DroneAssignmentRequest): Promise<DownstreamResponse<DroneAssigned>> {
    if (this.batchedAssignments) return this.batchedAssignments.call(deliveryId, body);
    return this.http.put(assignmentPath(deliveryId), body);
  }

  get(deliveryId: string): Promise<DownstreamResponse<DroneAssignment>> {
    return this.http.get(assignmentPath(deliveryId));
  }

  release(deliveryId: string): Promise<DownstreamResponse> {
    return this.http.delete(assignmentPath(deliveryId));
  }

  complete(deliveryId: string): Promise<DownstreamResponse> {
    return this.http.post(`${assignmentPath(deliveryId)}/completion`, {});
  }
}

function assignmentPath(deliveryId: string): string {
  return `/api/dronedeliveries/${encodeURIComponent(deliveryId)}`;
}
