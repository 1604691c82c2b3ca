export declare const ingressSettings: Record<string, string | number>;
export declare function renderNginxConfig(
  values: { PREFIX: string; ERROR_LOG: string; LISTEN: string; GATEWAY_ADDRESS: string | string[] } & Record<
    string,
    string | number | string[]
  >,
): string;
export declare function renderBalancerConfig(values: {
  PREFIX: string;
  ERROR_LOG: string;
  balancers: { name: string; listen: string; servers: string[] }[];
}): string;
