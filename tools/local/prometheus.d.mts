export declare const RULES_DIR: string;
export declare function ruleFiles(dir?: string): string[];
export declare function renderPrometheusConfig(options: {
  targets: { name: string; url: string }[];
  rules?: string[];
  interval?: string;
}): string;
export declare function prometheusCommand(options: {
  dir: string;
  port: number;
  targets: { name: string; url: string }[];
  rules?: string[];
  interval?: string;
}): { command: string; args: string[]; url: string };
export declare function stackTargets(
  services: Record<string, { replicas: { name: string; url: string }[] }>,
): { name: string; url: string }[];
