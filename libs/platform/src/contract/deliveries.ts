/** A delivery's fields as the gateway accepts them and the delivery service stores them. */
export const CONFIRMATION_TYPES = ['FingerPrint', 'Picture', 'Voice', 'None'] as const;
export type ConfirmationType = (typeof CONFIRMATION_TYPES)[number];

export const MAX_LOCATION_LENGTH = 256;
