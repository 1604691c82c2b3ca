export declare const ingressSettings: Record<string, string | number>;
export declare function renderNginxConfig(
  values: { PREFIX: string; ERROR_LOG: string; LISTEN: string; GATEWAY_ADDRESS: string } & Record<string, string | number>,
): string;
