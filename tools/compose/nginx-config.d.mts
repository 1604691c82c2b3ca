export declare const composeNginxConfigPath: string;
export declare function composeNginxConfig(): string;
