export type LogFormat = 'json' | 'pretty';
export declare const LOG_FORMATS: readonly LogFormat[];
export declare function chooseLogFormat(options?: { env?: Record<string, string | undefined>; isTTY?: boolean }): LogFormat;
export declare function lineFormatter(format: LogFormat, options?: { colorize?: boolean }): (line: string) => string[];
