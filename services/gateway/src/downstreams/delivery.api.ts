import type { DownstreamResponse, ResilientHttpClient } from '@dronedelivery/platform';

export interface DeliveryOwner {
  ownerId: string;
}

/** The delivery service's read routes the gateway calls; bodies are passed on to the caller as they are. */
export class DeliveryApi {
  constructor(private readonly http: ResilientHttpClient) {}

  get(deliveryId: string): Promise<DownstreamResponse> {
    return this.http.get(deliveryPath(deliveryId));
  }

  status(deliveryId: string): Promise<DownstreamResponse> {
    return this.http.get(`${deliveryPath(deliveryId)}/status`);
  }

  /** Who owns the delivery: authorisation once the gateway's own request record has expired. */
  owner(deliveryId: string): Promise<DownstreamResponse<DeliveryOwner>> {
    return this.http.get(`${deliveryPath(deliveryId)}/owner`);
  }
}

function deliveryPath(deliveryId: string): string {
  return `/api/deliveries/${encodeURIComponent(deliveryId)}`;
}
