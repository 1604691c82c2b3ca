/** Injection token for the service's validated config object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const SERVICE_NAME = 'SERVICE_NAME';
